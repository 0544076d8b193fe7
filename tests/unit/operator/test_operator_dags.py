"""The bundled DAGs load, validate their own default configs, and run incremental
collections one at a time."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from task_config import TaskConfig

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
