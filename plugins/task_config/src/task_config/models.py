"""The task config file (docs/contracts/config.md): common keys and the choice of section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, JsonValue, ValidationError, model_validator

from task_config._base import StrictModel
from task_config.api import ApiConfig
from task_config.crawler import CrawlerConfig
from task_config.database import DatabaseConfig

TaskType = Literal["crawler", "api", "database", "custom"]

# Which section each task type requires; every other section must be absent.
SECTION_BY_TYPE: dict[str, str] = {
    "crawler": "crawler_config",
    "api": "api_config",
    "database": "database_config",
    "custom": "custom_config",
}


class ConfigError(ValueError):
    """A task config that does not validate. The message names every bad field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors))


class StorageConfig(StrictModel):
    output_path: str = Field(default="/app/output", min_length=1, max_length=4096)
    filename_prefix: str = Field(
        default="output", min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$"
    )


class TaskConfig(StrictModel):
    task_name: str = Field(min_length=1, max_length=200)
    task_type: TaskType
    docker_image: str = Field(min_length=1, max_length=500, pattern=r"^[^\s]+$")
    base_url: str | None = Field(default=None, max_length=2048)
    storage_config: StorageConfig = Field(default_factory=StorageConfig)
    crawler_config: CrawlerConfig | None = None
    api_config: ApiConfig | None = None
    database_config: DatabaseConfig | None = None
    custom_config: dict[str, JsonValue] | None = None

    @model_validator(mode="after")
    def _one_section(self) -> TaskConfig:
        wanted = SECTION_BY_TYPE[self.task_type]
        if wanted != "custom_config" and getattr(self, wanted) is None:
            raise ValueError(f"{wanted} is required when task_type is {self.task_type!r}")
        extra = [
            name
            for name in SECTION_BY_TYPE.values()
            if name != wanted and getattr(self, name) is not None
        ]
        if extra:
            raise ValueError(
                f"{', '.join(extra)} not allowed when task_type is {self.task_type!r}"
            )
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The config as it goes into the container's config file."""
        return self.model_dump(mode="json", exclude_none=True)


def _field_path(loc: tuple[int | str, ...]) -> str:
    # pydantic puts the union member's name into the location; users never wrote it.
    parts = [str(p) for p in loc if not (isinstance(p, str) and p[:1].isupper())]
    path = ""
    for part in parts:
        path += f"[{part}]" if part.isdigit() else (f".{part}" if path else part)
    return path or "config"


def validate_config(raw: dict[str, Any] | str | bytes | Path) -> TaskConfig:
    """Validate a config given as a dict, a JSON text or a path to a JSON file.

    Raises ConfigError naming each bad field (e.g. ``crawler_config.max_pages``).
    """
    data: Any = raw
    if isinstance(raw, Path):
        try:
            data = json.loads(raw.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError([("config", f"cannot read {raw}: {exc.strerror}")]) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError([("config", f"{raw} is not valid JSON: {exc}")]) from exc
    elif isinstance(raw, str | bytes):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError([("config", f"not valid JSON: {exc}")]) from exc
    if not isinstance(data, dict):
        raise ConfigError([("config", f"must be a JSON object, got {type(data).__name__}")])
    try:
        return TaskConfig.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling)"
            errors.append((_field_path(err["loc"]), msg))
        raise ConfigError(errors) from None
