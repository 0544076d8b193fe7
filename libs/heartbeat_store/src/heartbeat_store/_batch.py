"""Coalesces concurrent calls of one Lua script into pipelines.

Under load many heartbeats are in flight at once; sending each EVALSHA on its own costs
a pool checkout, a syscall pair and a wait per beat. Here whatever has queued while the
previous pipeline was out goes in the next one: still one EVALSHA per call, each atomic,
in arrival order, with one round trip per batch. When idle, a call goes out at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

_Call = tuple[list[str], list[str | int], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, redis: Redis, script: AsyncScript, max_batch: int = 256) -> None:
        self._redis = redis
        self._script = script
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._draining = False

    async def __call__(self, keys: list[str], args: list[str | int]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((keys, args, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._send(batch)
        finally:
            self._draining = False

    async def _send(self, batch: list[_Call]) -> None:
        try:
            replies = await self._pipeline(batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:
                # Redis restarted or flushed its scripts: load once and resend those calls
                # (a NOSCRIPT reply means the call ran nothing).
                await self._redis.script_load(self._script.script)
                again = await self._pipeline([batch[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
        except Exception as exc:  # connection lost, timeout: every caller gets it (503)
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), reply in zip(batch, replies, strict=True):
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _pipeline(self, batch: list[_Call]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                pipe.evalsha(self._script.sha, len(keys), *keys, *args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
