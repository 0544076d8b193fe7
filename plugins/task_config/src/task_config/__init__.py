"""Pydantic models of the task config (docs/contracts/config.md), shared by the
Airflow operator and the task images, and the registry of task types."""

from task_config.api import ApiConfig
from task_config.crawler import CrawlerConfig
from task_config.database import DatabaseConfig
from task_config.models import (
    SECTION_BY_TYPE,
    ConfigError,
    StorageConfig,
    TaskConfig,
    TaskConfigBase,
    validate_config,
)
from task_config.task_types import (
    IncrementalCapability,
    SectionIncremental,
    TaskType,
    UnknownTaskType,
    incremental_state,
    task_type,
    task_type_of,
    task_types,
)

__all__ = [
    "SECTION_BY_TYPE",
    "ApiConfig",
    "ConfigError",
    "CrawlerConfig",
    "DatabaseConfig",
    "IncrementalCapability",
    "SectionIncremental",
    "StorageConfig",
    "TaskConfig",
    "TaskConfigBase",
    "TaskType",
    "UnknownTaskType",
    "incremental_state",
    "task_type",
    "task_type_of",
    "task_types",
    "validate_config",
]
