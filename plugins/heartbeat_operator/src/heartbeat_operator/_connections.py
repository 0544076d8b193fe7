"""The trigger's connections to the outside: one Redis client and one SSH connection to
the execution host, reused for the whole wait, and the retry of transient failures."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncssh
import redis.asyncio as aioredis
from airflow.providers.common.compat.connection import get_async_connection
from heartbeat_store import ExecutionStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from heartbeat_operator import _watch
from heartbeat_operator.hooks import ExecutionHost, redis_url_from_connection
from heartbeat_operator.settings import DockerEndpoint

T = TypeVar("T")
TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError, asyncssh.Error)


class WatchUnreachable(ConnectionError):
    """Redis or the execution host did not answer for the whole retry budget."""


class Links:
    def __init__(self, *, redis_conn_id: str, ssh_conn_id: str,
                 docker_endpoint: dict[str, Any], retry_budget: float,
                 log: logging.Logger | Any) -> None:
        self.redis_conn_id = redis_conn_id
        self.ssh_conn_id = ssh_conn_id
        self.docker_endpoint = docker_endpoint
        self.retry_budget = retry_budget
        self.log = log
        self._redis: aioredis.Redis | None = None
        self._host: ExecutionHost | None = None

    async def store(self) -> ExecutionStore:
        if self._redis is None:
            conn = await get_async_connection(self.redis_conn_id)
            self._redis = aioredis.from_url(
                redis_url_from_connection(conn),
                socket_connect_timeout=5,
                socket_timeout=30,
                health_check_interval=15,
            )
        return ExecutionStore(self._redis)

    def host(self) -> ExecutionHost:
        if self._host is None:
            self._host = ExecutionHost(
                self.ssh_conn_id, DockerEndpoint(**self.docker_endpoint), timeout=20)
        return self._host

    def drop_host(self) -> None:
        """Forget the SSH connection; the next call opens a new one."""
        if self._host is not None:
            self._host.close()
            self._host = None

    async def close(self) -> None:
        self.drop_host()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def retrying(
        self, what: str, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """Retry connection errors with jittered backoff, up to the retry budget."""
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await call(*args, **kwargs)
            except TRANSIENT as exc:
                attempt += 1
                delay = _watch.retry_delay(attempt, time.monotonic() - started, self.retry_budget)
                if delay is None:
                    raise WatchUnreachable(
                        f"{what} failed for {self.retry_budget:.0f}s: {type(exc).__name__}: {exc}"
                    ) from exc
                self.log.warning("%s failed (%s), retrying in %.1fs", what, exc, delay)
                if "ssh" in what.lower() or "docker" in what.lower():
                    self.drop_host()  # reconnect next time
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
