"""Real Redis (db 8 of 127.0.0.1:6379, flushed per test) behind the store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from heartbeat_store import ExecutionStore
from redis.asyncio import Redis

TEST_REDIS_URL = "redis://127.0.0.1:6379/8"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(TEST_REDIS_URL)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def store(redis: Redis) -> ExecutionStore:
    return ExecutionStore(redis, retention_seconds=3600, stream_maxlen=50)
