"""The completion's bytes (heartbeat_client._completion): heartbeat_contract's codec,
the same fields the API has always received."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from heartbeat_client._completion import (
    MAX_ERROR_MESSAGE_CHARS,
    completion_payload,
    final_status,
)
from heartbeat_contract import PROTOCOL_VERSION, completion, states


def payload(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "execution_id": "exec-1",
        "container_name": "task-exec-1",
        "success": True,
        "status": states.COMPLETED,
        "result_data": {"rows": 3, "name": "é"},
        "error_message": None,
    }
    fields.update(overrides)
    return completion_payload(**fields)


def test_the_body_has_the_fields_in_the_order_the_api_always_got() -> None:
    raw = payload()
    assert raw == (
        '{"execution_id":"exec-1","container_name":"task-exec-1","success":true,'
        '"result_data":{"rows":3,"name":"é"},"error_message":null,"status":"completed",'
        f'"protocol_version":{PROTOCOL_VERSION}}}'
    ).encode()
    decoded = completion.decode(raw)  # what every reader of _completion.json uses
    assert (decoded.success, decoded.status, decoded.result_data) == (
        True, states.COMPLETED, {"rows": 3, "name": "é"}
    )  # fmt: skip


def test_values_json_cannot_hold_are_sent_as_strings() -> None:
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    raw = payload(result_data={"at": when, "amount": decimal.Decimal("1.50")})
    assert json.loads(raw)["result_data"] == {"at": str(when), "amount": "1.50"}


def test_an_unencodable_result_is_sent_empty() -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    assert json.loads(payload(result_data=looped))["result_data"] == {}
    assert json.loads(payload(result_data={"x": float("nan")}))["result_data"] == {}


def test_long_error_messages_are_cut() -> None:
    raw = payload(success=False, status=states.FAILED, error_message="x" * 10_000)
    assert len(json.loads(raw)["error_message"]) == MAX_ERROR_MESSAGE_CHARS


def test_final_status_keeps_reported_states_only() -> None:
    assert final_status(True, None) == states.COMPLETED
    assert final_status(False, None) == states.FAILED
    assert final_status(False, states.CANCELLED) == states.CANCELLED
    assert final_status(False, states.LOST) == states.FAILED  # only decided outside
