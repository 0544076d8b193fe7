"""ExecutionStore against real Redis: finalize, the event streams, caps and retention."""

from __future__ import annotations

import asyncio

import pytest
from hbapi_helpers import snapshot
from heartbeat_store import ExecutionExists, ExecutionStore, FinalStateConflict, UnknownExecution
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


async def beat(store: ExecutionStore, execution_id: str, n: int = 0) -> bool:
    return await store.record_heartbeat(
        execution_id, container_name="c", status="running", progress={"n": n}, timestamp=n
    )


async def test_finalize_sets_a_final_state_once(store: ExecutionStore, redis: Redis) -> None:
    await store.register("e1")
    await beat(store, "e1")
    execution, changed = await store.finalize(
        "e1",
        "lost",
        error_message="no heartbeat for 60 s and the container is gone",
        exit_code=137,
        reason="heartbeat timeout",
    )
    assert changed and execution.status == "lost" and execution.exit_code == 137
    assert execution.transitions[-1]["reason"] == "heartbeat timeout"

    before = await snapshot(redis)
    again, changed = await store.finalize("e1", "failed", error_message="x", reason="other")
    assert not changed and again.status == "lost"
    with pytest.raises(FinalStateConflict):
        await store.record_completion(
            "e1", container_name="c", status="completed", result_data={}, error_message=None
        )
    with pytest.raises(FinalStateConflict):
        await beat(store, "e1")
    assert await snapshot(redis) == before


async def test_register_twice_and_unknown_ids(store: ExecutionStore, redis: Redis) -> None:
    await store.register("e1", dag_id="d")
    before = await snapshot(redis)
    with pytest.raises(ExecutionExists):
        await store.register("e1")
    with pytest.raises(UnknownExecution):
        await beat(store, "nope")
    with pytest.raises(UnknownExecution):
        await store.request_cancel("nope")
    with pytest.raises(UnknownExecution):
        await store.finalize("nope", "lost", error_message=None, reason="r")
    assert await store.get("nope") is None
    assert await snapshot(redis) == before


async def test_read_events_wakes_a_blocked_reader(store: ExecutionStore) -> None:
    await store.register("e1")
    history = await store.history("e1")
    last_id = history[-1].id

    reader = asyncio.create_task(store.read_events("e1", last_id, block_ms=10_000))
    await asyncio.sleep(0)  # let the reader block first
    await store.request_cancel("e1")
    events = await asyncio.wait_for(reader, 10)
    assert [(e.type, e.execution_id) for e in events] == [("cancel", "e1")]
    assert await store.read_events("e1", events[-1].id, block_ms=0) == []


async def test_history_newest_last_and_global_stream(store: ExecutionStore) -> None:
    await store.register("e1")
    await store.register("e2")
    for n in range(3):
        await beat(store, "e1", n)
    await store.record_completion(
        "e1", container_name="c", status="failed", result_data=None, error_message="Boom: x"
    )
    events = await store.history("e1", count=3)
    assert [e.type for e in events] == ["heartbeat", "heartbeat", "state"]
    assert events[0].progress == {"n": 1} and events[0].detail == {"timestamp": 1}
    assert events[-1].detail == {
        "from": "running",
        "to": "failed",
        "reason": "completion",
        "error": "Boom: x",
    }
    everything = await store.read_all_events("0-0", block_ms=0, count=100)
    assert [e.execution_id for e in everything].count("e2") == 1
    assert len(everything) == 2 + 1 + 3 + 1  # registrations, running, beats, failed


async def test_per_execution_stream_is_capped(redis: Redis) -> None:
    store = ExecutionStore(redis, stream_maxlen=10)
    await store.register("e1")
    for n in range(30):
        await beat(store, "e1", n)
    events = await store.history("e1", count=1000)
    assert len(events) == 10
    assert events[-1].progress == {"n": 29}


async def test_retention_ttls(redis: Redis) -> None:
    store = ExecutionStore(redis, retention_seconds=1000)
    await store.register("e1")
    await beat(store, "e1")
    keys = await redis.keys("*e1*")
    assert len(keys) == 3  # hash, transitions, stream
    for key in keys:  # active: twice the retention, refreshed by every beat
        await redis.expire(key, 5)
    await beat(store, "e1")
    assert all(1000 < ttl <= 2000 for ttl in [await redis.ttl(k) for k in keys])

    await store.record_completion(
        "e1", container_name="c", status="completed", result_data={"ok": 1}, error_message=None
    )
    assert all(0 < ttl <= 1000 for ttl in [await redis.ttl(k) for k in keys])
    # Global stream and index are capped/pruned instead of expiring.
    assert await redis.ttl("hb:events") == -1


async def test_list_executions_drops_expired_entries(store: ExecutionStore, redis: Redis) -> None:
    await store.register("old")
    await store.register("new")
    await beat(store, "new")
    for key in await redis.keys("*:exec:old*"):
        await redis.delete(key)  # what expiry does
    listed = await store.list_executions()
    assert [e.execution_id for e in listed] == ["new"]
    assert await redis.zrange("hb:executions", 0, -1) == [b"new"]


async def test_works_with_decoded_responses() -> None:
    client = Redis.from_url("redis://127.0.0.1:6379/9", decode_responses=True)
    try:
        await client.flushdb()
        store = ExecutionStore(client)
        registered = await store.register("e1", task_id="t")
        assert registered.task_id == "t" and registered.status == "pending"
        assert await beat(store, "e1") is False
        execution = await store.get("e1")
        assert execution is not None and execution.progress == {"n": 0}
        assert [e.type for e in await store.history("e1")] == ["state", "state", "heartbeat"]
        assert await store.ping() is True
    finally:
        await client.aclose()


async def test_ping_is_false_when_redis_is_unreachable() -> None:
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=None)
    try:
        assert await ExecutionStore(client).ping() is False
    finally:
        await client.aclose()


async def test_registration_keeps_the_execution_host_and_task_type(
    store: ExecutionStore,
) -> None:
    """The live view used to guess both; the operator now registers them."""
    await store.register("exec-host-1", dag_id="d", host="execution_host_2", task_type="api")
    execution = await store.get("exec-host-1")
    assert execution is not None
    assert execution.host == "execution_host_2" and execution.task_type == "api"
    await store.register("exec-host-2", dag_id="d")
    bare = await store.get("exec-host-2")
    assert bare is not None and bare.host is None and bare.task_type is None
