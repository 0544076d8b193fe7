"""Field limits of the request bodies; each error names its field."""

from __future__ import annotations

from typing import Any

import pytest
from heartbeat_api.schemas import (
    MAX_PROGRESS_BYTES,
    CompletionIn,
    HeartbeatIn,
    RegistrationIn,
)
from heartbeat_contract.completion import MAX_ERROR_MESSAGE_CHARS
from pydantic import ValidationError


def error_fields(exc: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in exc.errors()]


def test_heartbeat_defaults_follow_the_guide() -> None:
    beat = HeartbeatIn.model_validate(
        {"execution_id": "test", "container_name": "test", "status": "running"}
    )
    assert beat.progress is None and beat.timestamp is None and beat.protocol_version == 1


def test_progress_must_be_a_small_object() -> None:
    HeartbeatIn(execution_id="e", progress={"x": "a" * (MAX_PROGRESS_BYTES - 20)})
    with pytest.raises(ValidationError) as too_big:
        HeartbeatIn(execution_id="e", progress={"x": "a" * MAX_PROGRESS_BYTES})
    assert error_fields(too_big.value) == [("progress",)]
    assert "limit" in str(too_big.value)
    with pytest.raises(ValidationError) as not_object:
        HeartbeatIn.model_validate({"execution_id": "e", "progress": [1]})
    assert error_fields(not_object.value) == [("progress",)]


@pytest.mark.parametrize("bad_id", ["", "a b", "-lead", "x" * 129, "a/b", "{tag}"])
def test_execution_id_is_bounded_and_safe(bad_id: str) -> None:
    with pytest.raises(ValidationError) as caught:
        HeartbeatIn(execution_id=bad_id)
    assert error_fields(caught.value) == [("execution_id",)]


def test_unknown_keys_ignored_from_containers_forbidden_for_the_admin() -> None:
    assert HeartbeatIn.model_validate({"execution_id": "e", "new_field": 1}).execution_id == "e"
    with pytest.raises(ValidationError) as caught:
        RegistrationIn.model_validate({"execution_id": "e", "dagid": "x"})
    assert error_fields(caught.value) == [("dagid",)]


def test_completion_status_defaults_from_success_and_must_agree() -> None:
    assert CompletionIn(execution_id="e", success=True).final_status == "completed"
    assert CompletionIn(execution_id="e", success=False).final_status == "failed"
    cancelled = CompletionIn(execution_id="e", success=False, status="cancelled")
    assert cancelled.final_status == "cancelled"
    for success, status in ((True, "failed"), (True, "cancelled"), (False, "completed")):
        with pytest.raises(ValidationError) as caught:
            CompletionIn.model_validate({"execution_id": "e", "success": success, "status": status})
        assert error_fields(caught.value) == [("status",)]


def test_long_error_message_is_truncated() -> None:
    completion = CompletionIn(execution_id="e", success=False, error_message="x" * 100_000)
    assert completion.error_message is not None
    assert len(completion.error_message) == MAX_ERROR_MESSAGE_CHARS
    assert completion.error_message.endswith("[truncated]")
