"""The task config file (docs/contracts/config.md): common keys and the choice of section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from pydantic import BaseModel, Field, JsonValue, ValidationError, create_model, model_validator

from task_config._base import StrictModel
from task_config.task_types import TaskType, task_type, task_types

if TYPE_CHECKING:
    from task_config.api import ApiConfig
    from task_config.crawler import CrawlerConfig
    from task_config.database import DatabaseConfig

SectionT = TypeVar("SectionT", bound=BaseModel)

# Which section each task type requires; every other section must be absent.
SECTION_BY_TYPE: dict[str, str] = {t.name: t.section for t in task_types()}


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


class TaskConfigBase(StrictModel):
    """The common keys. ``TaskConfig`` adds ``task_type``'s allowed values and one
    optional field per registered section (task_config.task_types)."""

    task_name: str = Field(min_length=1, max_length=200)
    task_type: str
    docker_image: str = Field(min_length=1, max_length=500, pattern=r"^[^\s]+$")
    base_url: str | None = Field(default=None, max_length=2048)
    storage_config: StorageConfig = Field(default_factory=StorageConfig)

    @model_validator(mode="after")
    def _one_section(self) -> TaskConfigBase:
        wanted = task_type(self.task_type)
        if wanted.section_required and getattr(self, wanted.section) is None:
            raise ValueError(f"{wanted.section} is required when task_type is {self.task_type!r}")
        extra = [
            t.section
            for t in task_types()
            if t.section != wanted.section and getattr(self, t.section) is not None
        ]
        if extra:
            raise ValueError(
                f"{', '.join(extra)} not allowed when task_type is {self.task_type!r}"
            )
        return self

    @property
    def section(self) -> BaseModel | dict[str, JsonValue] | None:
        """The section of this config's task type (None: a custom task without one)."""
        value: BaseModel | dict[str, JsonValue] | None = getattr(
            self, task_type(self.task_type).section)
        return value

    def section_as(self, model: type[SectionT]) -> SectionT:
        """The section, typed, for the image that runs one task type:
        ``config.section_as(SftpConfig)``. ConfigError when it is another type's."""
        value = self.section
        if not isinstance(value, model):
            raise ConfigError([(
                "task_type",
                f"is {self.task_type!r}; this image runs tasks with a {model.__name__} section",
            )])
        return value

    def to_json_dict(self) -> dict[str, Any]:
        """The config as it goes into the container's config file."""
        return self.model_dump(mode="json", exclude_none=True)


def _section_field(kind: TaskType) -> Any:
    annotation: Any = kind.model if kind.model is not None else dict[str, JsonValue]
    return (annotation | None, None)


def _task_config_model() -> type[TaskConfigBase]:
    names = tuple(t.name for t in task_types())
    return create_model(
        "TaskConfig",
        __base__=TaskConfigBase,
        __module__=__name__,
        __doc__="A task config: the common keys and its task type's section.",
        task_type=(cast(Any, Literal)[names], ...),
        **{t.section: _section_field(t) for t in task_types()},
    )


if TYPE_CHECKING:

    class TaskConfig(TaskConfigBase):
        # Typed views of the bundled sections; the fields are built from the registry.
        # Another type's image reads its section with ``config.section_as(Model)``.
        crawler_config: CrawlerConfig | None
        api_config: ApiConfig | None
        database_config: DatabaseConfig | None
        custom_config: dict[str, JsonValue] | None

else:
    TaskConfig = _task_config_model()


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
