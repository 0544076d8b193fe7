"""Real Redis (db 9 of 127.0.0.1:6379, flushed per test) and the real API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from hbapi_helpers import ADMIN_TOKEN, SECRET, ApiServer, running_api
from heartbeat_api.main import create_app
from heartbeat_api.settings import Settings
from heartbeat_store import ExecutionStore
from redis.asyncio import Redis

TEST_REDIS_URL = "redis://127.0.0.1:6379/9"


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


@pytest.fixture
def settings() -> Settings:
    return Settings(
        redis_url=TEST_REDIS_URL,
        secret=SECRET,  # type: ignore[arg-type]
        admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        retention_seconds=3600,
        max_body_bytes=32768,
    )


@pytest.fixture
async def client(redis: Redis, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process (its lifespan run), over httpx's ASGI transport."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


@pytest.fixture(scope="session")
def api_server() -> Iterator[ApiServer]:
    """The real server, two workers, as a user runs it."""
    with running_api(TEST_REDIS_URL, workers=2) as server:
        yield server
