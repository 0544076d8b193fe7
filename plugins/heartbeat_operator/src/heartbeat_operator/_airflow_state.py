"""What Airflow itself says about a task instance, asked from inside the triggerer."""

from __future__ import annotations

from typing import Any

from heartbeat_operator import _reattach

DEFERRED = "deferred"


def state_key(task_id: str, map_index: int) -> str:
    """How the Task SDK keys a task instance in its task-states answer."""
    return task_id if map_index < 0 else f"{task_id}_{map_index}"


async def task_state(ti: Any) -> str | None:
    """The task instance's state in Airflow, or None when it cannot be told (no task
    instance on the trigger, or the triggerer's supervisor did not answer)."""
    if ti is None:
        return None
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import GetTaskStates

    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if comms is None or not hasattr(comms, "asend"):
        return None
    map_index = _reattach.map_index_of(ti)
    answer = await comms.asend(GetTaskStates(
        dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id], map_index=map_index))
    states = getattr(answer, "task_states", None) or {}
    found = (states.get(ti.run_id) or {}).get(state_key(ti.task_id, map_index))
    return str(found) if found is not None else None
