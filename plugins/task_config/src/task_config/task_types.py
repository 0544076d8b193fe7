"""The task types, registered in one place (docs/adding-a-task-type.md).

A task type names its ``task_type`` value, the config section it requires and that
section's model, its default image and, optionally, capabilities that generic code
asks for instead of knowing the type: today incremental state, kept by the operator
between successful runs. ``TaskConfig`` takes its allowed ``task_type`` values and
its section fields from this registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from task_config.api import ApiConfig
from task_config.crawler import CrawlerConfig
from task_config.database import DatabaseConfig

if TYPE_CHECKING:
    from task_config.models import TaskConfig

# Runs of one collection DAG at once, unless the task type or the DAG says otherwise.
DEFAULT_MAX_ACTIVE_RUNS = 4
# The config's own keys, which no section may take.
COMMON_KEYS = frozenset({"task_name", "task_type", "docker_image", "base_url", "storage_config"})


class IncrementalCapability(Protocol):
    """How a task type carries state from one successful run to the next.

    The operator keeps what :meth:`state_from_result` returns after a success and
    hands it to the next run through :meth:`with_state`.
    """

    def enabled(self, config: TaskConfig) -> bool:
        """Whether this config asks for incremental runs."""
        ...

    def state_in(self, config: TaskConfig) -> Any | None:
        """The state the config already gives (it wins over a stored one), or None."""
        ...

    def with_state(self, payload: dict[str, Any], state: Any) -> dict[str, Any]:
        """The JSON payload for the container with ``state`` put in, unless the
        payload already carries a state (then it is returned unchanged)."""
        ...

    def state_from_result(self, result_data: dict[str, Any]) -> Any | None:
        """The state the next run resumes from, or None when the result has none."""
        ...


@dataclass(frozen=True)
class SectionIncremental:
    """Incremental state inside the task's own section: the settings object at
    ``{section}.{key}`` turns it on and holds the state at ``{state_key}``; the
    container reports the new state as ``result_data[{result_key}]``.

    The API type's ``SectionIncremental("api_config")`` reads
    ``api_config.incremental.state`` and the result's ``state``.
    """

    section: str
    key: str = "incremental"
    state_key: str = "state"
    result_key: str = "state"

    def _settings(self, config: TaskConfig) -> Any:
        return getattr(getattr(config, self.section, None), self.key, None)

    def enabled(self, config: TaskConfig) -> bool:
        return self._settings(config) is not None

    def state_in(self, config: TaskConfig) -> Any | None:
        return getattr(self._settings(config), self.state_key, None)

    def with_state(self, payload: dict[str, Any], state: Any) -> dict[str, Any]:
        section = payload.get(self.section)
        if state is None or not isinstance(section, dict):
            return payload
        settings = section.get(self.key)
        if not isinstance(settings, dict) or settings.get(self.state_key) is not None:
            return payload
        # New dicts along the path only: the caller's payload is left as it was.
        settings = {**settings, self.state_key: state}
        return {**payload, self.section: {**section, self.key: settings}}

    def state_from_result(self, result_data: dict[str, Any]) -> Any | None:
        return result_data.get(self.result_key)


@dataclass(frozen=True)
class TaskType:
    """One task type.

    :param name: the config's ``task_type`` value.
    :param section: the config key of its section, e.g. ``crawler_config``.
    :param model: the section's pydantic model; None for a free-form JSON object,
        which is then optional (``custom``).
    :param image: the default ``docker_image``; None when the user brings their own.
    :param description: one line, for DAG descriptions and listings.
    :param max_active_runs: default runs of one DAG at once (incremental configs
        always run one at a time).
    :param incremental: the incremental-state capability, if the type has one.
    """

    name: str
    section: str
    model: type[BaseModel] | None
    image: str | None
    description: str
    max_active_runs: int = DEFAULT_MAX_ACTIVE_RUNS
    incremental: IncrementalCapability | None = None

    @property
    def section_required(self) -> bool:
        return self.model is not None

    def incremental_for(self, config: TaskConfig) -> IncrementalCapability | None:
        """The incremental capability when ``config`` turns it on, else None."""
        if self.incremental is not None and self.incremental.enabled(config):
            return self.incremental
        return None

    def runs_at_once(self, config: TaskConfig) -> int:
        """Default ``max_active_runs`` of a DAG running ``config``: two overlapping
        runs of an incremental task would start from the same state, so one."""
        return 1 if self.incremental_for(config) is not None else self.max_active_runs


class UnknownTaskType(LookupError):
    """A task type name that is not registered."""

    def __init__(self, name: object) -> None:
        self.name = name
        known = ", ".join(repr(t) for t in _BY_NAME)
        super().__init__(f"unknown task type {name!r}; known task types: {known}")


_REGISTERED: tuple[TaskType, ...] = (
    TaskType(
        name="crawler",
        section="crawler_config",
        model=CrawlerConfig,
        image="data-collection-crawler:latest",
        description="Crawl web pages and extract fields (CSS, XPath, regex, JSONPath, schema.org).",
    ),
    TaskType(
        name="api",
        section="api_config",
        model=ApiConfig,
        image="data-collection-api:latest",
        description="Collect records from a third-party HTTP API, paginated and rate-limited.",
        incremental=SectionIncremental("api_config"),
    ),
    TaskType(
        name="database",
        section="database_config",
        model=DatabaseConfig,
        image="data-collection-database:latest",
        description="Copy tables between databases, fully or incrementally by a cursor column.",
    ),
    TaskType(
        name="custom",
        section="custom_config",
        model=None,
        image=None,
        description="Run your own image built on the heartbeat SDK; custom_config is free-form.",
    ),
)


def _index(registered: Iterable[TaskType]) -> dict[str, TaskType]:
    by_name: dict[str, TaskType] = {}
    sections: set[str] = set()
    for each in registered:
        if each.name in by_name:
            raise ValueError(f"task type {each.name!r} is registered twice")
        if each.section in sections or each.section in COMMON_KEYS:
            raise ValueError(f"task type {each.name!r}: section {each.section!r} is taken")
        by_name[each.name] = each
        sections.add(each.section)
    return by_name


_BY_NAME = _index(_REGISTERED)


def task_types() -> tuple[TaskType, ...]:
    """Every registered task type, in registration order."""
    return _REGISTERED


def task_type(name: str) -> TaskType:
    """The task type called ``name``; UnknownTaskType names the known ones."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownTaskType(name) from None


def task_type_of(config: TaskConfig) -> TaskType:
    """The task type of a validated config."""
    return task_type(config.task_type)


def incremental_state(config: TaskConfig) -> IncrementalCapability | None:
    """The incremental capability of ``config``'s task type when the config turns it
    on, else None: what the operator asks before and after a run."""
    return task_type_of(config).incremental_for(config)
