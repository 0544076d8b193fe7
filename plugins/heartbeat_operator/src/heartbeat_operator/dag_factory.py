"""One small factory for the collection DAGs: a DAG with a `config` param (a form in
the UI; `conf: {"config": {...}}` on a triggered run replaces it) and one
HeartbeatDockerOperator task that runs it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param
from task_config import ConfigError, task_type_of, validate_config
from task_config.task_types import DEFAULT_MAX_ACTIVE_RUNS

from heartbeat_operator.operators import HeartbeatDockerOperator


def default_max_active_runs(default_config: dict[str, Any]) -> int:
    """Runs at once of a DAG whose default config is ``default_config``, as its task
    type says: one for a config with incremental state (two overlapping runs would
    start from the same state and collect the same records)."""
    try:
        config = validate_config(default_config)
    except ConfigError:
        # The DAG still loads; each run fails before launch, naming the bad field.
        return DEFAULT_MAX_ACTIVE_RUNS
    return task_type_of(config).runs_at_once(config)


def collection_dag(
    dag_id: str,
    *,
    default_config: dict[str, Any],
    schedule: str | None,
    description: str,
    tags: list[str] | None = None,
    retries: int = 1,
    retry_delay: float = 10.0,
    execution_timeout: timedelta | None = timedelta(hours=2),
    max_active_runs: int | None = None,
    **operator_kwargs: Any,
) -> DAG:
    if max_active_runs is None:
        max_active_runs = default_max_active_runs(default_config)
    with DAG(
        dag_id=dag_id,
        description=description,
        schedule=schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=max_active_runs,
        tags=["data-collection", *(tags or [])],
        # The config param renders as a dict, not as its string form.
        render_template_as_native_obj=True,
        params={
            "config": Param(
                default_config,
                type="object",
                title="Task config",
                description="The task config (docs/contracts/config.md); validated before launch.",
            )
        },
        default_args={"retries": retries, "retry_delay": timedelta(seconds=retry_delay)},
    ) as dag:
        HeartbeatDockerOperator(
            task_id="collect",
            config="{{ params.config }}",
            execution_timeout=execution_timeout,
            **operator_kwargs,
        )
    return dag
