"""The completion codec (heartbeat_contract.completion): what the SDK writes, every
reader decodes, and bytes from a container that are not a completion are refused
with the field named."""

from __future__ import annotations

import json

import pytest
from heartbeat_contract import PROTOCOL_VERSION, states
from heartbeat_contract.completion import (
    MAX_COMPLETION_BYTES,
    MAX_ERROR_MESSAGE_CHARS,
    Completion,
    CompletionError,
    check_status,
    decode,
    encode,
)


def test_a_completion_round_trips_through_its_bytes() -> None:
    sent = Completion(execution_id="e-1", container_name="task-e-1", success=False,
                      status=states.CANCELLED, result_data={"pages": 3, "note": "é"},
                      error_message="stopped")
    assert decode(encode(sent)) == sent
    assert json.loads(encode(sent))["protocol_version"] == PROTOCOL_VERSION


def test_the_guide_body_without_status_or_version_decodes() -> None:
    body = {"execution_id": "e-1", "container_name": "c", "success": True,
            "result_data": {"processed_records": 1000}, "error_message": None}
    found = decode(json.dumps(body).encode())
    assert found.status == states.COMPLETED
    assert found.protocol_version == PROTOCOL_VERSION
    assert decode(b'{"success": false}').status == states.FAILED


@pytest.mark.parametrize(("raw", "field"), [
    (b"[]", "not a JSON object"),
    (b"\xff\xfe", "not JSON"),
    (b"{", "not JSON"),
    (b'{"success": NaN}', "not JSON"),
    (b"{}", "success: missing"),
    (b'{"success": 1}', "success: must be bool"),
    (b'{"success": true, "status": "lost"}', "status: 'lost' is not one of"),
    (b'{"success": true, "status": "failed"}', "contradicts success=true"),
    (b'{"success": false, "status": "completed"}', "contradicts success=false"),
    (b'{"success": true, "result_data": [1, 2]}', "result_data: must be a JSON object"),
    (b'{"success": true, "error_message": 5}', "error_message: must be str"),
    (b'{"success": true, "execution_id": true}', "execution_id: must be str"),
    (b'{"success": true, "protocol_version": 0}', "protocol_version"),
    (b'{"success": true, "protocol_version": true}', "protocol_version"),
    (b"[" * 100_000 + b"]" * 100_000, "not"),
])
def test_bytes_that_are_not_a_completion_are_refused_naming_the_field(
        raw: bytes, field: str) -> None:
    with pytest.raises(CompletionError, match=field.replace("(", r"\(")):
        decode(raw)


def test_an_oversized_file_is_refused_before_parsing() -> None:
    raw = b'{"success": true, "error_message": "' + b"x" * MAX_COMPLETION_BYTES + b'"}'
    with pytest.raises(CompletionError, match="over"):
        decode(raw)


def test_a_long_error_message_is_truncated_not_refused() -> None:
    raw = json.dumps({"success": False, "error_message": "e" * (MAX_ERROR_MESSAGE_CHARS * 2)})
    found = decode(raw.encode())
    assert found.error_message is not None
    assert len(found.error_message) == MAX_ERROR_MESSAGE_CHARS
    assert found.error_message.endswith("[truncated]")


def test_check_status_names_the_outcome_a_completion_stands_for() -> None:
    assert check_status(True, None) == states.COMPLETED
    assert check_status(False, None) == states.FAILED
    assert check_status(False, states.CANCELLED) == states.CANCELLED
