"""ExecutionStore: every read and write of the heartbeat protocol's Redis schema.

The API, the Airflow trigger and the live view all go through :class:`ExecutionStore`.
Each state change is one Lua script, so it is atomic: a heartbeat racing a completion
never overwrites a final state, and a rejected write changes nothing.

Key names are in :mod:`heartbeat_store._keys`; retention is in the package docstring.

The client may use ``decode_responses`` True or False. A client used for
:meth:`ExecutionStore.read_events` needs a ``socket_timeout`` above ``block_ms`` (or None).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from heartbeat_contract import states
from redis.asyncio import Redis
from redis.exceptions import RedisError

from heartbeat_store._batch import ScriptBatcher
from heartbeat_store._keys import Keys
from heartbeat_store._lua import (
    CANCEL,
    COMPLETE,
    FINALIZE,
    HEARTBEAT,
    LUA_PRELUDE,
    OVERDUE,
    REGISTER,
)
from heartbeat_store.errors import ExecutionExists, FinalStateConflict, UnknownExecution
from heartbeat_store.records import (
    Event,
    Execution,
    event_from_entry,
    execution_from_mapping,
    execution_from_reply,
    text,
)

logger = logging.getLogger("heartbeat_store")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, so an identical completion compares equal byte for byte."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class ExecutionStore:
    """Execution state, heartbeat log and retention in Redis (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        *,
        retention_seconds: int = 604800,
        stream_maxlen: int = 1000,
        global_stream_maxlen: int = 100_000,
        prefix: str = "hb",
    ) -> None:
        self._redis = redis
        self._retention = int(retention_seconds)
        self._active_ttl = 2 * self._retention
        self._stream_maxlen = int(stream_maxlen)
        self._global_maxlen = int(global_stream_maxlen)
        self._names = Keys(prefix)
        self._register = redis.register_script(LUA_PRELUDE + REGISTER)
        self._heartbeat = ScriptBatcher(redis, redis.register_script(LUA_PRELUDE + HEARTBEAT))
        self._complete = redis.register_script(LUA_PRELUDE + COMPLETE)
        self._finalize = redis.register_script(LUA_PRELUDE + FINALIZE)
        self._cancel = redis.register_script(LUA_PRELUDE + CANCEL)
        self._overdue = redis.register_script(OVERDUE)

    def _keys(self, execution_id: str) -> list[str]:
        return self._names.for_scripts(execution_id)

    def _args(self, execution_id: str, *extra: str | int) -> list[str | int]:
        common: list[str | int] = [
            execution_id,
            self._active_ttl,
            self._retention,
            self._stream_maxlen,
            self._global_maxlen,
        ]
        return [*common, *extra]

    async def register(
        self,
        execution_id: str,
        *,
        dag_id: str | None = None,
        task_id: str | None = None,
        run_id: str | None = None,
        container_name: str | None = None,
        host: str | None = None,
        task_type: str | None = None,
        start_timeout: float | None = None,
    ) -> Execution:
        """Creates the execution in state ``pending``; ExecutionExists if the id is taken.

        With ``start_timeout``, an execution that has sent no heartbeat that many seconds
        after registration is overdue (:meth:`expire_unstarted` declares it lost)."""
        time_reply = await self._redis.time()
        prune_before = int(time_reply[0]) - 2 * self._retention
        reply = await self._register(
            keys=self._keys(execution_id),
            args=self._args(
                execution_id,
                dag_id or "",
                task_id or "",
                run_id or "",
                container_name or "",
                host or "",
                task_type or "",
                prune_before,
                "" if start_timeout is None else f"{float(start_timeout):.3f}",
            ),
        )
        if text(reply[0]) == "exists":
            raise ExecutionExists(execution_id)
        execution = execution_from_reply(execution_id, *reply[1])
        _log_change(execution_id, "", states.PENDING, "registered", dag_id=dag_id, task_id=task_id)
        return execution

    async def record_heartbeat(
        self,
        execution_id: str,
        *,
        container_name: str,
        status: str,
        progress: dict[str, Any] | None,
        timestamp: int | None,
    ) -> bool:
        """Records one beat (pending becomes running); returns whether cancel was requested."""
        reply = await self._heartbeat(
            self._keys(execution_id),
            self._args(
                execution_id,
                container_name or "",
                status,
                orjson.dumps(progress).decode() if progress is not None else "",
                "" if timestamp is None else int(timestamp),
            ),
        )
        outcome = text(reply[0])
        if outcome == "unknown":
            raise UnknownExecution(execution_id)
        if outcome == "final":
            raise FinalStateConflict(execution_id, text(reply[1]), "heartbeat")
        if text(reply[2]):
            _log_change(execution_id, states.PENDING, states.RUNNING, "first heartbeat")
        return text(reply[1]) == "1"

    async def record_completion(
        self,
        execution_id: str,
        *,
        container_name: str,
        status: str,
        result_data: dict[str, Any] | None,
        error_message: str | None,
    ) -> Execution:
        """The container's own report; an identical repeat is accepted, a different one
        raises FinalStateConflict."""
        if status not in states.REPORTED_STATES:
            raise ValueError(f"completion status must be one of {states.REPORTED_STATES}: {status}")
        reply = await self._complete(
            keys=self._keys(execution_id),
            args=self._args(
                execution_id,
                container_name or "",
                status,
                canonical_json(result_data),
                error_message or "",
            ),
        )
        outcome = text(reply[0])
        if outcome == "unknown":
            raise UnknownExecution(execution_id)
        if outcome == "final":
            raise FinalStateConflict(execution_id, text(reply[1]), f"completion as {status}")
        execution = execution_from_reply(execution_id, *reply[1])
        if outcome == "ok":
            _log_change(execution_id, text(reply[2]), status, "completion", error=error_message)
        return execution

    async def finalize(
        self,
        execution_id: str,
        status: str,
        *,
        error_message: str | None,
        exit_code: int | None = None,
        reason: str,
    ) -> tuple[Execution, bool]:
        """Sets a final state from outside the container (lost, failed, cancelled).

        Returns (execution, True) when it changed the state, or (existing, False) when the
        execution was already final: nothing is changed then.
        """
        if not states.is_final(status):
            raise ValueError(
                f"finalize status must be one of {sorted(states.FINAL_STATES)}: {status!r}")
        reply = await self._finalize(
            keys=self._keys(execution_id),
            args=self._args(
                execution_id,
                status,
                error_message or "",
                "" if exit_code is None else int(exit_code),
                reason,
            ),
        )
        outcome = text(reply[0])
        if outcome == "unknown":
            raise UnknownExecution(execution_id)
        execution = execution_from_reply(execution_id, *reply[1])
        if outcome == "final":
            return execution, False
        _log_change(
            execution_id, text(reply[2]), status, reason, error=error_message, exit_code=exit_code
        )
        return execution, True

    async def request_cancel(self, execution_id: str) -> Execution:
        """Flags a graceful stop; the next heartbeat answers cancel_requested=True."""
        reply = await self._cancel(keys=self._keys(execution_id), args=self._args(execution_id))
        outcome = text(reply[0])
        if outcome == "unknown":
            raise UnknownExecution(execution_id)
        if outcome == "final":
            raise FinalStateConflict(execution_id, text(reply[1]), "cancel")
        execution = execution_from_reply(execution_id, *reply[1])
        if text(reply[2]):
            logger.info(
                "cancel requested",
                extra={
                    "event": "cancel_requested",
                    "execution_id": execution_id,
                    "status": execution.status,
                },
            )
        return execution

    async def expire_unstarted(self, limit: int = 100) -> list[Execution]:
        """Declares ``lost`` every execution still pending past its start deadline (a
        launch that died between registering and starting its container); the ones
        changed."""
        overdue: Any = await self._overdue(keys=[self._names.start_deadlines], args=[limit])
        changed = []
        for raw in overdue:
            execution_id = text(raw)
            try:
                execution, did = await self.finalize(
                    execution_id, states.LOST, reason="never started",
                    error_message="lost: registered, but no heartbeat came within its "
                                  "start timeout (the launch did not start the container)")
            except UnknownExecution:
                await self._redis.zrem(self._names.start_deadlines, execution_id)
                continue
            if not did:  # already final; a stale deadline entry
                await self._redis.zrem(self._names.start_deadlines, execution_id)
            else:
                changed.append(execution)
        return changed

    async def hold_watch(self, task_instance: str, holder: dict[str, Any], ttl: float) -> None:
        """Say that ``holder`` (a trigger instance and its try) watches the task instance
        for the next ``ttl`` seconds; refreshed while it watches."""
        await self._redis.set(self._names.watch(task_instance), canonical_json(holder),
                              px=max(int(ttl * 1000), 1))

    async def watch_holder(self, task_instance: str) -> dict[str, Any] | None:
        """Who watches the task instance, if a lease is live."""
        raw = await self._redis.get(self._names.watch(task_instance))
        if raw is None:
            return None
        try:
            holder = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return holder if isinstance(holder, dict) else None

    async def release_watch(self, task_instance: str, holder: dict[str, Any]) -> None:
        """End ``holder``'s lease (and only its own)."""
        if await self.watch_holder(task_instance) == holder:
            await self._redis.delete(self._names.watch(task_instance))

    async def get(self, execution_id: str) -> Execution | None:
        keys = self._keys(execution_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys[0])
            pipe.lrange(keys[1], 0, -1)
            values, transitions = await pipe.execute()
        if not values:
            return None
        mapping = {text(k): text(v) for k, v in values.items()}
        return execution_from_mapping(execution_id, mapping, transitions)

    async def history(self, execution_id: str, count: int = 100) -> list[Event]:
        """The last ``count`` events of the execution's heartbeat log, newest last."""
        entries: Any = await self._redis.xrevrange(self._keys(execution_id)[2], count=count)
        return [event_from_entry(entry_id, fields) for entry_id, fields in reversed(entries)]

    async def read_events(
        self, execution_id: str, after_id: str, *, block_ms: int, count: int = 100
    ) -> list[Event]:
        """Events after ``after_id`` ("0-0" for all), waiting up to ``block_ms`` for one.

        ``block_ms <= 0`` does not wait (Redis would read BLOCK 0 as "forever").
        """
        return await self._read(self._keys(execution_id)[2], after_id, block_ms, count)

    async def read_all_events(
        self, after_id: str, *, block_ms: int, count: int = 100
    ) -> list[Event]:
        """Like read_events, on the one capped stream of every execution's events."""
        return await self._read(self._names.all_events, after_id, block_ms, count)

    async def _read(self, stream: str, after_id: str, block_ms: int, count: int) -> list[Event]:
        reply: Any = await self._redis.xread(
            {stream: after_id}, count=count, block=block_ms if block_ms > 0 else None
        )
        if not reply:
            return []
        entries: Any
        if isinstance(reply, dict):  # RESP3 answers a map
            entries = next(iter(reply.values()))[0]
        else:
            entries = reply[0][1]
        return [event_from_entry(entry_id, fields) for entry_id, fields in entries]

    async def list_executions(self, limit: int = 200) -> list[Execution]:
        """The most recently updated executions, newest first; drops expired index entries."""
        index = self._names.index
        members: Any = await self._redis.zrevrange(index, 0, limit - 1)
        ids = [text(member) for member in members]
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for execution_id in ids:
                keys = self._keys(execution_id)
                pipe.hgetall(keys[0])
                pipe.lrange(keys[1], 0, -1)
            replies = await pipe.execute()
        found: list[Execution] = []
        gone: list[str] = []
        for position, execution_id in enumerate(ids):
            values, transitions = replies[2 * position], replies[2 * position + 1]
            if not values:
                gone.append(execution_id)
                continue
            mapping = {text(k): text(v) for k, v in values.items()}
            found.append(execution_from_mapping(execution_id, mapping, transitions))
        if gone:
            await self._redis.zrem(index, *gone)
        return found

    async def ping(self) -> bool:
        """True when Redis answers; never raises."""
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False


def _log_change(execution_id: str, old: str, new: str, reason: str, **extra: Any) -> None:
    # One structured line per state change; callers never pass tokens here.
    fields = {k: v for k, v in extra.items() if v is not None}
    logger.info(
        "state change",
        extra={
            "event": "state_change",
            "execution_id": execution_id,
            "from": old or None,
            "to": new,
            "reason": reason,
            **fields,
        },
    )
