"""Reattach on retry: what a try records in Airflow's task state store, and whether the
next try may watch that try's container instead of starting a new one.

A try records its execution (id, host, container) right after registering it, before
the container starts, so a worker that dies at any point of the launch leaves enough
for the next try. The next try reattaches only when the execution is not final and its
container still runs: a task that failed, was cancelled, or was marked failed or
cleared by a user (each of which ends the execution) starts over.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from heartbeat_contract import states

from heartbeat_operator._docker_api import ContainerState
from heartbeat_operator._remote import check_execution_id

STATE_KEY = "heartbeat_execution"
# Seconds a trigger's watch lease lasts; each watch refreshes it every few seconds.
WATCH_LEASE_SECONDS = 10.0
# The lease a deferring try takes until its trigger runs (and takes it over): long
# enough for a triggerer to pick the trigger up, short enough to have run out before a
# retry whose trigger never got to hold it (Redis already unreachable) starts.
LAUNCH_HOLDER = "launch"
LAUNCH_LEASE_SECONDS = 30.0


def watch_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The task instance, as the watch lease names it (every try of it)."""
    return f"{dag_id}:{run_id}:{task_id}:{map_index}"


def map_index_of(ti: Any) -> int:
    """A task instance's map index; -1 when it is not mapped (or does not say)."""
    map_index = getattr(ti, "map_index", None)
    return -1 if map_index is None else int(map_index)


def watch_key_of(ti: Any) -> str:
    return watch_key(ti.dag_id, ti.run_id, ti.task_id, map_index_of(ti))


@dataclass(frozen=True)
class Attempt:
    """One try's execution, as kept in the task state store (JSON)."""

    execution_id: str
    ssh_conn_id: str
    container_name: str
    config_dir: str
    completion_file: str
    try_number: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> Attempt:
        """The stored value, checked: it crossed a boundary (ValueError if unusable)."""
        if not isinstance(value, dict):
            raise ValueError(f"stored {STATE_KEY} is not an object")
        try:
            attempt = cls(
                execution_id=check_execution_id(str(value["execution_id"])),
                ssh_conn_id=str(value["ssh_conn_id"]),
                container_name=str(value["container_name"]),
                config_dir=str(value["config_dir"]),
                completion_file=str(value["completion_file"]),
                try_number=int(value["try_number"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"stored {STATE_KEY} lacks {exc}") from None
        if attempt.container_name != f"task-{attempt.execution_id}":
            raise ValueError(f"stored {STATE_KEY} names another execution's container")
        return attempt


@dataclass(frozen=True)
class Verdict:
    reattach: bool
    reason: str
    # Set when the earlier execution must be ended: it is not final but cannot go on.
    end_as: str | None = None


def verdict(attempt: Attempt, status: str | None, container: ContainerState | None,
            watched_by_try: int | None = None) -> Verdict:
    """Whether the next try watches ``attempt``'s container (pure; see the module).

    ``watched_by_try``: the try whose watch holds the lease now, if any. An earlier
    try still watching means that try did not fail: the task was cleared or marked
    while deferred, and that watch stops the container itself."""
    earlier = f"execution {attempt.execution_id} of try {attempt.try_number}"
    if watched_by_try is not None:
        return Verdict(False, f"{earlier} is still watched by try {watched_by_try} (the "
                              "task was cleared or marked while deferred)")
    if status is None:
        return Verdict(False, f"{earlier} is no longer in Redis")
    if states.is_final(status):
        return Verdict(False, f"{earlier} ended {status}")
    if container is None or not container.exists:
        return Verdict(False, f"{earlier} has no container on {attempt.ssh_conn_id}",
                       end_as=states.LOST)
    if not container.running:
        return Verdict(False, f"{earlier}: container {attempt.container_name} is "
                              f"{container.status}", end_as=states.LOST)
    return Verdict(True, f"{earlier} is {status} and container {attempt.container_name} "
                         f"still runs on {attempt.ssh_conn_id}")


def retry_follows(reattach: bool, try_number: int, max_tries: int) -> bool:
    """Whether a failure of this try is followed by a try that may reattach."""
    return reattach and try_number <= max_tries
