"""What the store returns: an execution's state and the events of its heartbeat log.

Both are immutable snapshots decoded from Redis replies; they work whether the Redis
client was created with ``decode_responses=True`` or ``False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from heartbeat_contract import events, states


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution as stored; times are Redis server epoch seconds."""

    execution_id: str
    status: str
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    container_name: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    last_heartbeat_at: float | None = None
    finished_at: float | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    container_status: str | None = None
    result_data: dict[str, Any] | None = None
    error_message: str | None = None
    exit_code: int | None = None
    cancel_requested: bool = False
    cancel_requested_at: float | None = None
    # Every state change: {"status": ..., "at": float, "reason": ...}, oldest first.
    transitions: list[dict[str, Any]] = field(default_factory=list)
    # Where and what runs, as registered (the execution host's name, the task type).
    host: str | None = None
    task_type: str | None = None

    @property
    def is_final(self) -> bool:
        return states.is_final(self.status)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of an execution's heartbeat log (or of the global event stream)."""

    id: str
    execution_id: str
    type: str
    at: float
    status: str
    progress: dict[str, Any] | None = None
    # State changes: from, to, reason and (if any) error, exit_code.
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _optional_float(value: str | None) -> float | None:
    return float(value) if value else None


def execution_from_reply(
    execution_id: str, flat_hash: Sequence[bytes | str], raw_transitions: Sequence[bytes | str]
) -> Execution:
    """Builds an Execution from HGETALL's flat [field, value, ...] list and LRANGE."""
    values = {text(flat_hash[i]): text(flat_hash[i + 1]) for i in range(0, len(flat_hash) - 1, 2)}
    return execution_from_mapping(execution_id, values, raw_transitions)


def execution_from_mapping(
    execution_id: str, values: dict[str, str], raw_transitions: Sequence[bytes | str]
) -> Execution:
    progress = orjson.loads(values["progress"]) if values.get("progress") else {}
    result_raw = values.get("result_data")
    exit_code = values.get("exit_code")
    return Execution(
        execution_id=execution_id,
        status=values.get("status", states.PENDING),
        dag_id=values.get("dag_id") or None,
        task_id=values.get("task_id") or None,
        run_id=values.get("run_id") or None,
        container_name=values.get("container_name") or None,
        created_at=_optional_float(values.get("created_at")),
        started_at=_optional_float(values.get("started_at")),
        last_heartbeat_at=_optional_float(values.get("last_heartbeat_at")),
        finished_at=_optional_float(values.get("finished_at")),
        progress=progress,
        container_status=values.get("container_status") or None,
        result_data=orjson.loads(result_raw) if result_raw else None,
        error_message=values.get("error_message") or None,
        exit_code=int(exit_code) if exit_code else None,
        cancel_requested=values.get("cancel_requested") == "1",
        cancel_requested_at=_optional_float(values.get("cancel_requested_at")),
        transitions=[orjson.loads(raw) for raw in raw_transitions],
        host=values.get("host") or None,
        task_type=values.get("task_type") or None,
    )


def event_from_entry(entry_id: bytes | str, flat_fields: Any) -> Event:
    """Builds an Event from one stream entry (fields as a dict or a flat list)."""
    if isinstance(flat_fields, dict):
        values = {text(k): text(v) for k, v in flat_fields.items()}
    else:
        values = {
            text(flat_fields[i]): text(flat_fields[i + 1])
            for i in range(0, len(flat_fields) - 1, 2)
        }
    detail: dict[str, Any] = {
        key: value for key, value in values.items() if key not in events.CORE_FIELDS
    }
    for name in events.INTEGER_FIELDS & detail.keys():
        detail[name] = int(detail[name])
    progress_raw = values.get(events.PROGRESS)
    return Event(
        id=text(entry_id),
        execution_id=values.get(events.EXECUTION_ID, ""),
        type=values.get(events.TYPE, ""),
        at=float(values.get(events.AT, "0")),
        status=values.get(events.STATUS, ""),
        progress=orjson.loads(progress_raw) if progress_raw else None,
        detail=detail,
    )
