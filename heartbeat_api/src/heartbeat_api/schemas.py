"""Bodies of the heartbeat API (docs/contracts/http-api.md), split by direction, bounded.

Bodies sent by containers ignore unknown keys, so a newer SDK keeps working against
this API; the admin's registration body forbids them, so a typo is an error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from heartbeat_contract import completion, states
from heartbeat_contract.version import MAX_PROTOCOL_VERSION, PROTOCOL_VERSION
from heartbeat_store.records import Event, Execution
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MAX_PROGRESS_BYTES = 16 * 1024

ExecutionId = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]
Label = Annotated[str, Field(max_length=250)]
ContainerName = Annotated[str, Field(max_length=255)]
ProtocolVersion = Annotated[
    int, Field(default=PROTOCOL_VERSION, ge=1, le=MAX_PROTOCOL_VERSION)
]


class _FromContainer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class HeartbeatIn(_FromContainer):
    execution_id: ExecutionId
    container_name: ContainerName = ""
    status: Annotated[str, Field(min_length=1, max_length=64)] = states.RUNNING
    progress: dict[str, Any] | None = None
    timestamp: Annotated[int, Field(ge=0, le=2**40)] | None = None
    protocol_version: ProtocolVersion = PROTOCOL_VERSION

    @field_validator("progress")
    @classmethod
    def _progress_is_small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            size = len(orjson.dumps(value))
            if size > MAX_PROGRESS_BYTES:
                raise ValueError(
                    f"progress is {size} bytes as JSON, over the limit of {MAX_PROGRESS_BYTES}; "
                    "report counters and a stage, not data"
                )
        return value


class HeartbeatOut(BaseModel):
    status: Literal["ok"] = "ok"
    cancel_requested: bool


class CompletionIn(_FromContainer):
    execution_id: ExecutionId
    container_name: ContainerName = ""
    success: bool
    result_data: dict[str, Any] | None = None
    error_message: str | None = None
    status: states.ReportedStatus | None = None
    protocol_version: ProtocolVersion = PROTOCOL_VERSION

    @field_validator("error_message")
    @classmethod
    def _bounded_error(cls, value: str | None) -> str | None:
        # Truncated, not refused: a long traceback must not cost the task its completion.
        if value is not None and len(value) > completion.MAX_ERROR_MESSAGE_CHARS:
            return value[: completion.MAX_ERROR_MESSAGE_CHARS - 14] + " … [truncated]"
        return value

    @field_validator("status")
    @classmethod
    def _status_agrees_with_success(cls, value: str | None, info: ValidationInfo) -> str | None:
        success = info.data.get("success")
        if isinstance(success, bool):
            try:
                completion.check_status(success, value)
            except completion.CompletionError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def final_status(self) -> str:
        return states.reported_status(self.success, self.status)


class CompletionOut(BaseModel):
    status: Literal["ok"] = "ok"
    execution_id: str
    execution_status: str


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    execution_id: ExecutionId | None = None
    dag_id: Label | None = None
    task_id: Label | None = None
    run_id: Label | None = None
    container_name: ContainerName | None = None
    host: Label | None = None
    task_type: Label | None = None
    # Seconds after which an execution with no heartbeat yet is declared lost.
    start_timeout: Annotated[float, Field(gt=0, le=7 * 24 * 3600)] | None = None


class RegistrationOut(BaseModel):
    execution_id: str
    token: str
    status: str


class TransitionOut(BaseModel):
    status: str
    at: float
    reason: str | None = None


class ExecutionOut(BaseModel):
    """The status endpoint's answer: the documented fields first, then the rest."""

    execution_id: str
    status: str
    progress: dict[str, Any]
    last_heartbeat_at: float | None
    started_at: float | None
    finished_at: float | None
    result_data: dict[str, Any] | None
    error_message: str | None
    created_at: float | None
    container_status: str | None
    container_name: str | None
    dag_id: str | None
    task_id: str | None
    run_id: str | None
    exit_code: int | None
    cancel_requested: bool
    cancel_requested_at: float | None = None
    transitions: list[TransitionOut]

    @classmethod
    def of(cls, execution: Execution) -> ExecutionOut:
        return cls.model_validate(execution.to_dict())


class EventOut(BaseModel):
    id: str
    execution_id: str
    type: str
    at: float
    status: str
    progress: dict[str, Any] | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls.model_validate(event.to_dict())


class HeartbeatHistoryOut(BaseModel):
    execution_id: str
    status: str
    last_heartbeat_at: float | None
    container_status: str | None
    progress: dict[str, Any]
    cancel_requested: bool
    # The heartbeat log, newest last: heartbeats, state changes and cancel requests.
    history: list[EventOut]


class ExecutionListOut(BaseModel):
    executions: list[ExecutionOut]


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    redis: Literal["ok", "unreachable"]
