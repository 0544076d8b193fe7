"""Executions that never started (a launch that died between registering and
`docker start`) become lost after their start timeout instead of staying pending."""

from __future__ import annotations

import asyncio

import pytest
from heartbeat_contract import states
from heartbeat_store import ExecutionStore
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


async def test_an_execution_with_no_heartbeat_past_its_start_timeout_is_lost(
        store: ExecutionStore, redis: Redis) -> None:
    await store.register("never", start_timeout=0.2)
    await store.register("beats", start_timeout=0.2)
    await store.register("no-timeout")
    await store.record_heartbeat("beats", container_name="c", status=states.RUNNING,
                                 progress=None, timestamp=None)
    assert await store.expire_unstarted() == []  # nothing overdue yet
    await _until_overdue(redis, "never")
    changed = await store.expire_unstarted()
    assert [e.execution_id for e in changed] == ["never"]
    lost = await store.get("never")
    assert lost is not None and lost.status == states.LOST
    assert "no heartbeat came within its start timeout" in (lost.error_message or "")
    assert lost.transitions[-1]["reason"] == "never started"
    for other in ("beats", "no-timeout"):
        execution = await store.get(other)
        assert execution is not None and execution.status != states.LOST
    assert await store.expire_unstarted() == []  # once only


async def test_a_finished_execution_leaves_no_deadline_behind(
        store: ExecutionStore, redis: Redis) -> None:
    await store.register("done", start_timeout=30)
    await store.finalize("done", states.FAILED, error_message="launch failed",
                         reason="operator")
    assert await redis.zcard("hb:start_deadlines") == 0


async def test_a_cancel_request_is_recorded_with_its_time(store: ExecutionStore) -> None:
    registered = await store.register("c-1")
    assert registered.cancel_requested_at is None
    cancelled = await store.request_cancel("c-1")
    assert cancelled.cancel_requested
    assert cancelled.cancel_requested_at is not None
    assert cancelled.cancel_requested_at >= (registered.created_at or 0)


async def _until_overdue(redis: Redis, execution_id: str) -> None:
    """Wait for the Redis clock (whole seconds, as the sweep reads it) to pass the
    execution's start deadline."""
    async with asyncio.timeout(5):
        while True:
            score = await redis.zscore("hb:start_deadlines", execution_id)
            seconds, micros = await redis.time()
            if score is not None and seconds + micros / 1e6 >= score + 1:
                return
            await asyncio.sleep(0.05)
