"""Decoding of Redis replies into Execution and Event, bytes or str alike."""

from __future__ import annotations

from heartbeat_store.records import event_from_entry, execution_from_reply


def test_execution_from_bytes_reply() -> None:
    flat = [
        b"status",
        b"running",
        b"created_at",
        b"1700000000.5",
        b"progress",
        b'{"n":1}',
        b"cancel_requested",
        b"1",
        b"exit_code",
        b"137",
        b"result_data",
        b"null",
    ]
    transitions = [b'{"status":"pending","at":1700000000.5,"reason":"registered"}']
    execution = execution_from_reply("e1", flat, transitions)
    assert execution.status == "running" and execution.created_at == 1700000000.5
    assert execution.progress == {"n": 1} and execution.cancel_requested
    assert execution.exit_code == 137 and execution.result_data is None
    assert execution.transitions[0]["status"] == "pending"
    assert not execution.is_final and execution.started_at is None


def test_event_from_entry_splits_detail() -> None:
    event = event_from_entry(
        b"1-0",
        [
            b"type",
            b"state",
            b"execution_id",
            b"e1",
            b"at",
            b"2.25",
            b"status",
            b"lost",
            b"from",
            b"running",
            b"to",
            b"lost",
            b"reason",
            b"timeout",
            b"exit_code",
            b"1",
        ],
    )
    assert (event.id, event.type, event.at, event.status) == ("1-0", "state", 2.25, "lost")
    assert event.detail == {"from": "running", "to": "lost", "reason": "timeout", "exit_code": 1}
    beat = event_from_entry(
        "2-0",
        {
            "type": "heartbeat",
            "execution_id": "e1",
            "at": "3",
            "status": "running",
            "progress": '{"a":1}',
        },
    )
    assert beat.progress == {"a": 1} and beat.detail == {}
