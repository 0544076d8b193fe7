"""The live feed: ONE blocking reader of the global event stream per server process,
fanned out to every open page.

The reader starts with the first subscriber and stops with the last, so an idle API
holds no blocking read. Each stream event becomes one message: a heartbeat of a known
execution becomes a patch built from the event alone; anything else (registration, state
change, cancel request, a first sighting) re-reads that one execution. Rates and times
left are measured here from the heartbeats as they pass, once for all pages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from heartbeat_store import ExecutionStore
from heartbeat_store.records import Event, Execution
from redis.asyncio import Redis
from redis.exceptions import RedisError

from heartbeat_api.settings import Settings
from heartbeat_api.ui.progress import ProgressSummary, RateTracker, summarize
from heartbeat_api.ui.rows import event_dict, execution_row, heartbeat_patch

logger = logging.getLogger("heartbeat_api.ui")

# Sent to a subscriber whose queue overflowed: its page reconnects and gets a snapshot.
OVERFLOW: dict[str, Any] = {"kind": "overflow"}
_MAX_STREAM_ID_SEQUENCE = 2**64 - 1
_FORGET_AFTER_SECONDS = 15 * 60.0


@dataclass
class _Watch:
    """What the feed remembers of one execution between its heartbeats."""

    tracker: RateTracker = field(default_factory=RateTracker)
    summary: ProgressSummary = field(default_factory=ProgressSummary)
    started_at: float | None = None


class LiveFeed:
    def __init__(
        self,
        settings: Settings,
        *,
        block_ms: int = 5000,
        batch: int = 500,
        queue_size: int = 2000,
    ) -> None:
        self._settings = settings
        self.block_ms = block_ms
        self._batch = batch
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._redis: Redis | None = None
        self._store: ExecutionStore | None = None
        self._watches: dict[str, _Watch] = {}
        self._clock_offset = 0.0  # Redis time minus this host's time
        self._last_sweep = 0.0

    # -- subscribers ---------------------------------------------------------------
    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of messages from now on; the reader runs while anyone holds one."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            await self._ensure_running()
            yield queue
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers:
                await self._stop()

    @property
    def reading(self) -> bool:
        return self._task is not None and not self._task.done()

    def now(self) -> float:
        """Redis server time (the clock of every stored time), as well as this host knows."""
        return time.time() + self._clock_offset

    @property
    def store(self) -> ExecutionStore:
        if self._store is None:
            raise RuntimeError("the live feed is not running; use it inside subscribe()")
        return self._store

    async def _ensure_running(self) -> None:
        async with self._lock:
            if self.reading:
                return
            settings = self._settings
            redis = Redis.from_url(
                settings.redis_url,
                socket_connect_timeout=settings.redis_connect_timeout,
                # Above the blocking read's wait, so a quiet stream is not a timeout.
                socket_timeout=self.block_ms / 1000 + settings.redis_timeout,
            )
            try:
                seconds, micros = await redis.time()
            except BaseException:
                await redis.aclose()
                raise
            self._clock_offset = seconds + micros / 1e6 - time.time()
            # Every entry from this millisecond on (stream ids start with the Redis time).
            start_ms = seconds * 1000 + micros // 1000
            after_id = f"{start_ms - 1}-{_MAX_STREAM_ID_SEQUENCE}"
            self._redis = redis
            self._store = ExecutionStore(
                redis,
                retention_seconds=settings.retention_seconds,
                stream_maxlen=settings.stream_maxlen,
                global_stream_maxlen=settings.global_stream_maxlen,
            )
            self._task = asyncio.create_task(self._read_forever(after_id), name="live-feed")

    async def _stop(self) -> None:
        async with self._lock:
            if self._subscribers:
                return  # someone subscribed while we waited for the lock
            task, redis = self._task, self._redis
            self._task, self._redis, self._store = None, None, None
            self._watches.clear()
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if redis is not None:
                await redis.aclose()

    def _publish(self, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A page that cannot keep up starts over rather than slowing the others.
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(OVERFLOW)

    # -- the reader ------------------------------------------------------------------
    async def _read_forever(self, after_id: str) -> None:
        store = self.store
        delay = 0.5
        offline = False
        while True:
            try:
                events = await store.read_all_events(
                    after_id, block_ms=self.block_ms, count=self._batch
                )
                messages = [await self._message(event) for event in events]
            except (RedisError, OSError) as exc:
                if not offline:
                    logger.warning(
                        "live feed lost Redis",
                        extra={"event": "live_feed_offline", "error": type(exc).__name__},
                    )
                    self._publish({"kind": "offline", "now": self.now()})
                    offline = True
                await asyncio.sleep(delay)  # back off while Redis is away
                delay = min(delay * 2, 5.0)
                continue
            if offline:
                offline, delay = False, 0.5
                self._publish({"kind": "online", "now": self.now()})
            if events:
                after_id = events[-1].id
            for message in messages:
                if message is not None:
                    self._publish(message)
            self._forget_idle()

    async def _message(self, event: Event) -> dict[str, Any] | None:
        execution_id = event.execution_id
        watch = self._watches.get(execution_id)
        if event.type == "heartbeat" and watch is not None:
            if event.progress is not None:
                watch.summary = summarize(event.progress)
            watch.tracker.add(event.at, watch.summary)
            patch = heartbeat_patch(
                event, watch.summary, watch.tracker.estimate(watch.summary, watch.started_at)
            )
            return {
                "kind": "update",
                "partial": True,
                "execution_id": execution_id,
                "event": event_dict(event),
                "row": patch,
                "now": self.now(),
            }
        execution = await self.store.get(execution_id)
        if execution is None:
            return None  # expired meanwhile
        row = self.row(execution)
        if execution.is_final:
            self._watches.pop(execution_id, None)
        return {
            "kind": "update",
            "partial": False,
            "execution_id": execution_id,
            "event": event_dict(event),
            "row": row,
            "now": self.now(),
        }

    def row(self, execution: Execution) -> dict[str, Any]:
        """The row of an execution, with the rate measured so far."""
        summary = summarize(execution.progress)
        watch = self._watches.get(execution.execution_id)
        if watch is None:
            watch = self._watches[execution.execution_id] = _Watch()
        watch.summary = summary
        watch.started_at = execution.started_at
        if execution.last_heartbeat_at is not None:
            watch.tracker.add(execution.last_heartbeat_at, summary)
        return execution_row(
            execution, summary, watch.tracker.estimate(summary, execution.started_at)
        )

    def seed(self, execution_id: str, history: list[Event]) -> None:
        """Rate samples from the heartbeat log, for an execution seen only once so far."""
        watch = self._watches.get(execution_id)
        if watch is None or len(watch.tracker) >= 2:
            return
        tracker = RateTracker(watch.tracker.window)
        summary = ProgressSummary()
        for event in history:
            if event.type == "heartbeat" and event.progress is not None:
                summary = summarize(event.progress)
                tracker.add(event.at, summary)
        watch.tracker = tracker

    def _forget_idle(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        horizon = self.now() - _FORGET_AFTER_SECONDS
        for execution_id in [i for i, w in self._watches.items() if w.tracker.last_seen < horizon]:
            del self._watches[execution_id]

    # -- snapshots -------------------------------------------------------------------
    async def list_snapshot(self, limit: int) -> dict[str, Any]:
        executions = await self.store.list_executions(limit)
        return {
            "kind": "snapshot",
            "now": self.now(),
            "rows": [self.row(execution) for execution in executions],
        }

    async def detail_snapshot(self, execution_id: str, history_count: int) -> dict[str, Any]:
        execution = await self.store.get(execution_id)
        if execution is None:
            return {"kind": "missing", "execution_id": execution_id, "now": self.now()}
        history = await self.store.history(execution_id, history_count)
        self.row(execution)
        self.seed(execution_id, history)
        return {
            "kind": "snapshot",
            "now": self.now(),
            "rows": [self.row(execution)],
            "history": [event_dict(event) for event in history],
        }
