"""The watch lease: which try of a task instance, in which trigger object, watches it
now. Kept in Redis for a few seconds and refreshed while the watch runs.

It answers two questions the trigger and the operator cannot answer from Airflow
alone: is an on_kill a user's action or a trigger that moved to another triggerer
(apache/airflow#73454), and is an earlier try's watch still running when a new try
starts (the task was cleared or marked while deferred: no reattach then)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from heartbeat_store import ExecutionStore

from heartbeat_operator import _airflow_state, _reattach
from heartbeat_operator._connections import Links


class WatchLease:
    def __init__(self, task_instance: Any, links: Links, log: logging.Logger | Any) -> None:
        self.links = links
        self.log = log
        self.key: str | None = None
        self.me: dict[str, Any] = {}
        self._ti = task_instance
        if task_instance is not None:
            self.key = _reattach.watch_key_of(task_instance)
            self.me = {"try": int(task_instance.try_number), "instance": uuid.uuid4().hex}

    async def hold(self, store: ExecutionStore) -> None:
        if self.key is not None:
            with contextlib.suppress(Exception):  # a lease is advice, never fatal
                await store.hold_watch(self.key, self.me, ttl=_reattach.WATCH_LEASE_SECONDS)

    async def release(self) -> None:
        if self.key is not None:
            with contextlib.suppress(Exception):
                store = await self.links.store()
                await asyncio.wait_for(store.release_watch(self.key, self.me), 3)

    async def moved_elsewhere(self) -> bool:
        """Airflow still has the task deferred and another trigger object of this same
        try holds the lease (waiting up to one lease for it to show)."""
        if self.key is None:
            return False
        try:
            state = await asyncio.wait_for(_airflow_state.task_state(self._ti), 5)
        except Exception as exc:  # noqa: BLE001 - when Airflow cannot tell, the user wins
            self.log.warning("Could not ask Airflow for the task's state: %s", exc)
            return False
        if state != _airflow_state.DEFERRED:
            return False
        store = await self.links.store()
        deadline = time.monotonic() + _reattach.WATCH_LEASE_SECONDS
        while time.monotonic() < deadline:
            holder = await store.watch_holder(self.key) or {}
            if holder.get("try") == self.me["try"] and holder.get("instance") not in (
                    self.me["instance"], _reattach.LAUNCH_HOLDER):
                return True
            if isinstance(holder.get("try"), int) and holder["try"] > self.me["try"]:
                return False  # a newer try runs: this one was cleared
            await asyncio.sleep(0.5)
        return False
