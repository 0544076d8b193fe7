"""Pydantic models of the task config (docs/contracts/config.md), shared by the
Airflow operator and the task images."""

from task_config.api import ApiConfig
from task_config.crawler import CrawlerConfig
from task_config.database import DatabaseConfig
from task_config.models import (
    SECTION_BY_TYPE,
    ConfigError,
    StorageConfig,
    TaskConfig,
    validate_config,
)

__all__ = [
    "SECTION_BY_TYPE",
    "ApiConfig",
    "ConfigError",
    "CrawlerConfig",
    "DatabaseConfig",
    "StorageConfig",
    "TaskConfig",
    "validate_config",
]
