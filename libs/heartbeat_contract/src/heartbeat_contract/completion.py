"""The completion a container reports, as an HTTP body and as ``_completion.json``.

The SDK writes the same bytes to ``{output_dir}/_completion.json`` that it posts to
the completion endpoint, so a container that could not reach the API still leaves
its outcome behind. :func:`decode` is what every reader of that file uses: the bytes
come from a container and are not trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from heartbeat_contract import states
from heartbeat_contract.version import MAX_PROTOCOL_VERSION, PROTOCOL_VERSION

COMPLETION_FILENAME = "_completion.json"
MAX_COMPLETION_BYTES = 1024 * 1024
MAX_ERROR_MESSAGE_CHARS = 8 * 1024


class CompletionError(ValueError):
    """A completion that is not valid; the message names the field."""


@dataclass(frozen=True)
class Completion:
    execution_id: str
    success: bool
    status: str
    container_name: str = ""
    result_data: dict[str, Any] = field(default_factory=dict)
    error_message: str | None = None
    protocol_version: int = PROTOCOL_VERSION

    def to_body(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "container_name": self.container_name,
            "success": self.success,
            "result_data": self.result_data,
            "error_message": self.error_message,
            "status": self.status,
            "protocol_version": self.protocol_version,
        }


def check_status(success: bool, status: str | None) -> str:
    """The final status a completion stands for, or CompletionError when the two disagree."""
    if status is not None and status not in states.REPORTED_STATES:
        raise CompletionError(
            f"status: {status!r} is not one of {', '.join(states.REPORTED_STATES)}")
    if success and status not in (None, states.COMPLETED):
        raise CompletionError(
            f"status: {status!r} contradicts success=true; use {states.COMPLETED!r}")
    if not success and status == states.COMPLETED:
        raise CompletionError(
            f"status: {status!r} contradicts success=false; "
            f"use {states.FAILED!r} or {states.CANCELLED!r}")
    return states.reported_status(success, status)


def encode(completion: Completion) -> bytes:
    return json.dumps(completion.to_body(), separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def decode(raw: bytes) -> Completion:
    """A completion from untrusted bytes, or CompletionError naming what is wrong."""
    if len(raw) > MAX_COMPLETION_BYTES:
        raise CompletionError(f"completion is {len(raw)} bytes, over {MAX_COMPLETION_BYTES}")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CompletionError(f"completion is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise CompletionError("completion is not a JSON object")
    return from_body(body)


def from_body(body: dict[str, Any]) -> Completion:
    success = _typed(body, "success", bool, required=True)
    status = check_status(success, _typed(body, "status", str))
    result = body.get("result_data")
    if result is not None and not isinstance(result, dict):
        raise CompletionError("result_data: must be a JSON object")
    error = _typed(body, "error_message", str)
    if error is not None and len(error) > MAX_ERROR_MESSAGE_CHARS:
        error = error[: MAX_ERROR_MESSAGE_CHARS - 14] + " … [truncated]"
    version = body.get("protocol_version", PROTOCOL_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or not (
            1 <= version <= MAX_PROTOCOL_VERSION):
        raise CompletionError(f"protocol_version: {version!r} is not 1..{MAX_PROTOCOL_VERSION}")
    return Completion(
        execution_id=_typed(body, "execution_id", str) or "",
        container_name=_typed(body, "container_name", str) or "",
        success=success,
        status=status,
        result_data=dict(result or {}),
        error_message=error,
        protocol_version=version,
    )


def _typed(body: dict[str, Any], key: str, kind: type, *, required: bool = False) -> Any:
    value = body.get(key)
    if value is None:
        if required:
            raise CompletionError(f"{key}: missing")
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise CompletionError(f"{key}: must be {kind.__name__}, got {type(value).__name__}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
