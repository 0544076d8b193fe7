"""The completion's bytes: one body for the API and for the completion file alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from heartbeat_contract import completion, states

__all__ = ["MAX_ERROR_MESSAGE_CHARS", "completion_payload", "describe_error", "final_status"]

logger = logging.getLogger("heartbeat_client")

# Longer messages are cut: the API limits field sizes, and a refused
# completion would lose the whole result over a long traceback text.
MAX_ERROR_MESSAGE_CHARS = 2000


def describe_error(exc: BaseException) -> str:
    """``"ExcType: message"`` (or just the type when the message is empty)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def final_status(success: bool, status: str | None) -> str:
    """``status`` when it is one a container may report, else what ``success`` implies."""
    default = states.COMPLETED if success else states.FAILED
    if status is None:
        return default
    if status not in states.REPORTED_STATES:
        logger.warning(
            "completion status %r is not one of %s; sending %r",
            status,
            ", ".join(states.REPORTED_STATES),
            default,
        )
        return default
    return status


def completion_payload(
    *,
    execution_id: str,
    container_name: str,
    success: bool,
    status: str,
    result_data: Mapping[str, Any] | None,
    error_message: str | None,
) -> bytes:
    """The JSON bytes of the completion (heartbeat_contract.completion's codec).

    Values JSON cannot hold (a datetime, a Decimal) are sent as strings; a result that
    cannot be encoded at all (it contains itself, a NaN) is sent empty, with an error
    logged, so the outcome still gets through.
    """
    if error_message is not None:
        error_message = str(error_message)[:MAX_ERROR_MESSAGE_CHARS]
    try:
        result = _json_ready(dict(result_data) if result_data else {})
        body = completion.Completion(
            execution_id=execution_id,
            container_name=container_name,
            success=bool(success),
            status=status,
            result_data=result,
            error_message=error_message,
        )
        return completion.encode(body)
    except (TypeError, ValueError, RecursionError) as exc:
        logger.error("result_data cannot be encoded as JSON (%s); sending it empty", exc)
        empty = completion.Completion(
            execution_id=execution_id,
            container_name=container_name,
            success=bool(success),
            status=status,
            result_data={},
            error_message=error_message,
        )
        return completion.encode(empty)


def _json_ready(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with every value JSON cannot hold turned into its ``str()``."""
    decoded = json.loads(json.dumps(result, default=str, ensure_ascii=False, allow_nan=False))
    assert isinstance(decoded, dict)
    return decoded
