"""HeartbeatTrigger round-trips through serialize() with plain values only."""

from __future__ import annotations

import json

from heartbeat_operator.triggers import HeartbeatTrigger

EID = "550e8400-e29b-41d4-a716-446655440000"


def make() -> HeartbeatTrigger:
    return HeartbeatTrigger(
        execution_id=EID, container_name=f"task-{EID}", redis_conn_id="heartbeat_redis",
        ssh_conn_id="execution_host", docker_endpoint={"url": "ssh"},
        completion_file=f"/tmp/task_outputs/{EID}/_completion.json", heartbeat_timeout=12.0,
        startup_timeout=60.0, silent_running_timeout=90.0, deadline=1_900_000_000.0,
        stop_grace_seconds=7,
    )


def test_serialize_round_trips() -> None:
    classpath, kwargs = make().serialize()
    assert classpath == "heartbeat_operator.triggers.HeartbeatTrigger"
    # Plain JSON values only: no clients, no secrets.
    assert json.loads(json.dumps(kwargs)) == kwargs
    again = HeartbeatTrigger(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert again.heartbeat_timeout == 12.0 and again.stop_grace_seconds == 7


def test_serialized_trigger_holds_no_secret_fields() -> None:
    _, kwargs = make().serialize()
    assert not any(word in key for key in kwargs for word in ("token", "password", "secret"))
