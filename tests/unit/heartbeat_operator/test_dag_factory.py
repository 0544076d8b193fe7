"""The bundled DAGs load, validate their own default configs, and run incremental
collections one at a time."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from heartbeat_operator import dag_factory
from heartbeat_operator.dag_factory import collection_dag, default_max_active_runs
from task_config import SectionIncremental, TaskConfig, task_type, task_type_of, validate_config
from task_config.task_types import DEFAULT_MAX_ACTIVE_RUNS

DAGS = Path(__file__).resolve().parents[3] / "dags"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bundled_{name}", DAGS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "max_active_runs"),
    [("api_collection", 1), ("crawler_collection", 4), ("database_sync", 4)],
)
def test_bundled_dag_validates_its_default_config(name: str, max_active_runs: int) -> None:
    module = load(name)
    dag = module.dag
    assert dag.dag_id == name
    # Two overlapping runs of an incremental task would read the same state.
    assert dag.max_active_runs == max_active_runs
    config = dag.params["config"]
    TaskConfig.model_validate(config)
    assert dag.schedule is not None


def bundled_dag_names() -> list[str]:
    return sorted(path.stem for path in DAGS.glob("*.py") if not path.stem.startswith("_"))


@pytest.mark.parametrize("name", bundled_dag_names())
def test_every_bundled_dag_follows_its_task_type(name: str) -> None:
    """A DAG file added to dags/ is checked here without listing it: its id is the file
    name, its config validates, the image is its task type's default, and it runs as
    many at once as the task type says."""
    dag = load(name).dag
    assert dag.dag_id == name
    config = validate_config(dag.params["config"])
    kind = task_type_of(config)
    if kind.image is not None:
        assert config.docker_image == kind.image
    assert dag.max_active_runs == kind.runs_at_once(config)


CRAWLER: dict[str, Any] = {
    "task_name": "crawl",
    "task_type": "crawler",
    "docker_image": "data-collection-crawler:latest",
    "crawler_config": {"target_urls": ["https://shop.example/"], "data_fields": ["name"],
                       "follow_links": {"css": "a"}},
}
API: dict[str, Any] = {
    "task_name": "api",
    "task_type": "api",
    "docker_image": "data-collection-api:latest",
    "api_config": {"base_url": "http://shop.example",
                   "incremental": {"cursor_field": "id", "param": "since_id"}},
}


def make_dag(default_config: dict[str, Any], **kwargs: Any) -> Any:
    return collection_dag("t", default_config=default_config, schedule=None,
                          description="test", **kwargs)


def test_max_active_runs_comes_from_the_incremental_capability() -> None:
    assert make_dag(API).max_active_runs == 1
    without = copy.deepcopy(API)
    del without["api_config"]["incremental"]
    assert make_dag(without).max_active_runs == DEFAULT_MAX_ACTIVE_RUNS
    assert make_dag(CRAWLER).max_active_runs == DEFAULT_MAX_ACTIVE_RUNS
    assert make_dag(API, max_active_runs=3).max_active_runs == 3


def test_any_task_type_declaring_incremental_state_runs_one_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the factory read api_config.incremental, so another type's
    incremental state ran overlapping DAG runs."""
    crawler = dataclasses.replace(
        task_type("crawler"), incremental=SectionIncremental("crawler_config", key="follow_links"))
    monkeypatch.setattr(dag_factory, "task_type_of", lambda config: crawler)
    assert make_dag(CRAWLER).max_active_runs == 1


def test_a_dag_with_an_invalid_default_config_still_loads() -> None:
    bad = {**API, "api_config": {"base_url": "ftp://nowhere"}}
    assert make_dag(bad).max_active_runs == DEFAULT_MAX_ACTIVE_RUNS
    assert default_max_active_runs(bad) == DEFAULT_MAX_ACTIVE_RUNS
