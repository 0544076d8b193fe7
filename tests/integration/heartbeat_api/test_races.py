"""Races against the real server (two worker processes): final states are never overwritten.

The client is aiohttp: httpx's connection pool, not the server, limits it at this
concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hbapi_helpers import ApiServer
from heartbeat_api.auth import execution_token
from heartbeat_store import ExecutionStore
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

RACES = 1000


@pytest.fixture
async def http(api_server: ApiServer) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(api_server.base_url, connector=connector) as session:
        yield session


@pytest.fixture
async def wide_store(redis: Redis) -> AsyncIterator[ExecutionStore]:
    """A store whose client allows as many connections as the test has concurrent calls."""
    client = Redis.from_url("redis://127.0.0.1:6379/9", max_connections=1024)
    try:
        yield ExecutionStore(client)
    finally:
        await client.aclose()


async def post(http: aiohttp.ClientSession, api: ApiServer, path: str, body: dict[str, Any]) -> int:
    token = execution_token(api.secret, body["execution_id"])
    async with http.post(path, json=body, headers={"Authorization": f"Bearer {token}"}) as answer:
        await answer.read()
        return answer.status


async def test_heartbeat_racing_completion_never_overwrites_the_final_state(
    api_server: ApiServer, http: aiohttp.ClientSession, wide_store: ExecutionStore
) -> None:
    ids = [f"race-{n}" for n in range(RACES)]
    await asyncio.gather(*(wide_store.register(i) for i in ids))

    async def race(execution_id: str) -> tuple[int, int]:
        beat = {"execution_id": execution_id, "status": "running", "progress": {"p": 1}}
        done = {"execution_id": execution_id, "success": True, "result_data": {"id": execution_id}}
        beat_code, done_code = await asyncio.gather(
            post(http, api_server, "/api/v1/monitoring/heartbeat", beat),
            post(http, api_server, "/api/v1/monitoring/completion", done),
        )
        return beat_code, done_code

    outcomes = await asyncio.gather(*(race(i) for i in ids))

    assert {done for _, done in outcomes} == {200}
    assert {beat for beat, _ in outcomes} <= {200, 409}
    executions = await asyncio.gather(*(wide_store.get(i) for i in ids))
    for (beat_code, _), execution in zip(outcomes, executions, strict=True):
        assert execution is not None
        assert execution.status == "completed", execution
        assert execution.result_data == {"id": execution.execution_id}
        statuses = [t["status"] for t in execution.transitions]
        # A heartbeat that won moved pending to running first; one that lost changed nothing.
        expected = (
            ["pending", "running", "completed"] if beat_code == 200 else ["pending", "completed"]
        )
        assert statuses == expected, execution


async def test_two_different_completions_and_a_finalize_exactly_one_wins(
    api_server: ApiServer, http: aiohttp.ClientSession, wide_store: ExecutionStore
) -> None:
    ids = [f"duel-{n}" for n in range(300)]
    await asyncio.gather(*(wide_store.register(i) for i in ids))

    async def duel(execution_id: str) -> tuple[int, int, bool]:
        ok, failed, (_, finalized) = await asyncio.gather(
            post(
                http,
                api_server,
                "/api/v1/monitoring/completion",
                {"execution_id": execution_id, "success": True},
            ),
            post(
                http,
                api_server,
                "/api/v1/monitoring/completion",
                {"execution_id": execution_id, "success": False, "error_message": "E"},
            ),
            wide_store.finalize(execution_id, "lost", error_message="gone", reason="timeout"),
        )
        return ok, failed, finalized

    results = await asyncio.gather(*(duel(i) for i in ids))
    executions = await asyncio.gather(*(wide_store.get(i) for i in ids))
    for (ok_code, failed_code, finalized), execution in zip(results, executions, strict=True):
        assert {ok_code, failed_code} <= {200, 409}
        winners = [ok_code == 200, failed_code == 200, finalized]
        assert winners.count(True) == 1, (execution, winners)
        expected = ["completed", "failed", "lost"][winners.index(True)]
        assert execution is not None and execution.status == expected
        assert [t["status"] for t in execution.transitions] == ["pending", expected]
