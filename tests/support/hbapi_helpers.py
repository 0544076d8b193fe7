"""Helpers: the real heartbeat API (`python -m heartbeat_api`) on a free port, and a
full snapshot of a Redis db (to show that a refused write changed nothing).

Usable from any test (tests/support is on pytest's pythonpath):
``with running_api("redis://127.0.0.1:6379/9") as api: ...``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from heartbeat_servers import (
    HeartbeatApiProcess,
    free_port,
    heartbeat_api_env,
    running_heartbeat_api,
)
from redis.asyncio import Redis

ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET = "test-signing-secret-0123456789"


@dataclass
class ApiServer(HeartbeatApiProcess):
    admin_token: str = ADMIN_TOKEN
    secret: str = SECRET

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def api_env(redis_url: str, **extra: str) -> dict[str, str]:
    return heartbeat_api_env(redis_url, secret=SECRET, admin_token=ADMIN_TOKEN, **extra)


@contextlib.contextmanager
def running_api(
    redis_url: str, *, workers: int = 1, wait_healthy: bool = True, **env: str
) -> Iterator[ApiServer]:
    """Runs the API until the block ends; waits for /healthz (200) unless told not to."""
    with running_heartbeat_api(
        redis_url,
        secret=SECRET,
        admin_token=ADMIN_TOKEN,
        workers=workers,
        wait_healthy=wait_healthy,
        **env,
    ) as server:
        yield ApiServer(server.base_url, server.process, server.log_path)


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def snapshot(redis: Redis) -> dict[str, Any]:
    """Every key of the test db with its full content, to show a write changed nothing."""
    state: dict[str, Any] = {}
    for key in sorted(await redis.keys("*")):
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            state[key] = await redis.hgetall(key)
        elif kind == "list":
            state[key] = await redis.lrange(key, 0, -1)
        elif kind == "stream":
            state[key] = await redis.xrange(key)
        elif kind == "zset":
            state[key] = await redis.zrange(key, 0, -1, withscores=True)
        else:
            state[key] = await redis.dump(key)
    return state


__all__ = [
    "ADMIN",
    "ADMIN_TOKEN",
    "SECRET",
    "ApiServer",
    "api_env",
    "free_port",
    "running_api",
    "snapshot",
]
