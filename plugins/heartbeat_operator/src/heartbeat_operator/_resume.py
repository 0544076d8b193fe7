"""The I/O of reattach on retry, for the operator: judging the earlier try's execution
(Redis, the watch lease, its container on the host) and taking the watch lease while a
try defers. The decision itself is pure, in :mod:`heartbeat_operator._reattach`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from heartbeat_store import ExecutionStore
from redis.exceptions import RedisError

from heartbeat_operator import _reattach
from heartbeat_operator.hooks import ExecutionHost, redis_url
from heartbeat_operator.settings import DockerEndpoint


async def judge(attempt: _reattach.Attempt, key: str, try_number: int, redis_conn_id: str,
                docker: DockerEndpoint,
                finalize: Callable[[str, str, str], Awaitable[None]]) -> _reattach.Verdict:
    """Whether try ``try_number`` watches ``attempt``; an earlier execution that cannot go
    on is ended through ``finalize`` (execution id, state, message)."""
    client = aioredis.from_url(redis_url(redis_conn_id), socket_connect_timeout=5)
    try:
        store = ExecutionStore(client)
        execution = await store.get(attempt.execution_id)
        holder = await store.watch_holder(key)
    finally:
        await client.aclose()
    watcher = holder.get("try") if holder else None
    watcher = watcher if isinstance(watcher, int) and watcher < try_number else None
    container = None
    if execution is not None and not execution.is_final:
        async with ExecutionHost(attempt.ssh_conn_id, docker) as host:
            container = await host.docker().inspect(attempt.container_name)
    verdict = _reattach.verdict(attempt, execution.status if execution else None, container,
                                watcher)
    if verdict.end_as is not None:
        await finalize(attempt.execution_id, verdict.end_as, f"{verdict.end_as}: {verdict.reason}")
    return verdict


async def hold_launch_lease(redis_conn_id: str, key: str, try_number: int,
                            log: logging.Logger | Any) -> None:
    """This try watches from now on, until its trigger takes the lease over."""
    client = aioredis.from_url(redis_url(redis_conn_id), socket_connect_timeout=5)
    try:
        await ExecutionStore(client).hold_watch(
            key, {"try": try_number, "instance": _reattach.LAUNCH_HOLDER},
            ttl=_reattach.LAUNCH_LEASE_SECONDS)
    except (OSError, RedisError) as exc:  # advice only: the watch itself matters more
        log.warning("Could not note the watch of try %s: %s", try_number, exc)
    finally:
        await client.aclose()
