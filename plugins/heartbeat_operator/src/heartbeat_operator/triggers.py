"""HeartbeatTrigger: waits in the triggerer, holding no worker slot, on the
execution's event stream in Redis and on Docker's word that the container stopped.

It observes; :mod:`heartbeat_operator._watch` decides. Every ending (completed, failed,
lost, cancelled, timed out, a watch that failed, a user's kill) goes through
:meth:`HeartbeatTrigger._end`, and none leaves a container running unless the next try
will reattach to it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent
from heartbeat_contract import completion, states
from heartbeat_store import Execution, ExecutionStore

from heartbeat_operator import _watch
from heartbeat_operator._connections import Links, WatchUnreachable
from heartbeat_operator._docker_api import ContainerState
from heartbeat_operator._lease import WatchLease
from heartbeat_operator._remote import should_remove, summarize_progress

# Work that must outlive the trigger's cancellation; a reference keeps it alive.
_BACKGROUND: set[asyncio.Future[None]] = set()
# How long one Docker wait may block before it is asked again.
_EXIT_WAIT_SECONDS = 300.0


def _in_background(work: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


class ExecutionMissing(LookupError):
    """The execution's record is not in Redis: nothing can report to it."""


class HeartbeatTrigger(BaseTrigger):
    """Watch one execution until it reaches a final state.

    A container that stops without reporting ends the watch as soon as Docker says so
    (``lost``, with its exit code and OOM flag, unless it left a ``_completion.json``).
    After ``heartbeat_timeout`` seconds without a heartbeat (``startup_timeout`` before
    the first one) a running container is tolerated for ``silent_running_timeout`` more
    seconds, then stopped and failed. A cancel request the task does not obey within
    ``stop_grace_seconds`` becomes ``docker stop``. Timeouts count from the times stored
    in Redis, so a restarted triggerer resumes where the last one was. When the watch
    itself fails (Redis or the host unreachable past ``retry_budget``) and
    ``retry_follows``, the container is left running for the next try to reattach to.
    """

    def __init__(
        self,
        *,
        execution_id: str,
        container_name: str,
        redis_conn_id: str,
        ssh_conn_id: str,
        docker_endpoint: dict[str, Any],
        completion_file: str,
        heartbeat_timeout: float = 30.0,
        startup_timeout: float = 120.0,
        silent_running_timeout: float = 300.0,
        deadline: float | None = None,
        stop_grace_seconds: int = 10,
        log_interval: float = 5.0,
        retry_budget: float = 300.0,
        config_dir: str | None = None,
        remove_policy: str = "success",
        finish_on_success: bool = False,
        retry_follows: bool = False,
    ) -> None:
        super().__init__()
        self.execution_id = execution_id
        self.container_name = container_name
        self.redis_conn_id = redis_conn_id
        self.ssh_conn_id = ssh_conn_id
        self.docker_endpoint = docker_endpoint
        self.completion_file = completion_file
        self.heartbeat_timeout = heartbeat_timeout
        self.startup_timeout = startup_timeout
        self.silent_running_timeout = silent_running_timeout
        self.deadline = deadline
        self.stop_grace_seconds = stop_grace_seconds
        self.log_interval = log_interval
        self.retry_budget = retry_budget
        self.config_dir = config_dir
        self.remove_policy = remove_policy
        self.finish_on_success = finish_on_success
        self.retry_follows = retry_follows
        self._links: Links | None = None
        self._lease: WatchLease | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        names = ("execution_id", "container_name", "redis_conn_id", "ssh_conn_id",
                 "docker_endpoint", "completion_file", "heartbeat_timeout", "startup_timeout",
                 "silent_running_timeout", "deadline", "stop_grace_seconds", "log_interval",
                 "retry_budget", "config_dir", "remove_policy", "finish_on_success",
                 "retry_follows")
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {name: getattr(self, name) for name in names})

    @property
    def links(self) -> Links:
        if self._links is None:
            self._links = Links(redis_conn_id=self.redis_conn_id, ssh_conn_id=self.ssh_conn_id,
                                docker_endpoint=self.docker_endpoint,
                                retry_budget=self.retry_budget, log=self.log)
        return self._links

    def _limits(self) -> _watch.Limits:
        return _watch.Limits(
            heartbeat_timeout=self.heartbeat_timeout, startup_timeout=self.startup_timeout,
            silent_running_timeout=self.silent_running_timeout, deadline=self.deadline,
            log_interval=self.log_interval, cancel_grace=float(self.stop_grace_seconds))

    # -- the wait -------------------------------------------------------------------
    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._follow()
        except Exception as exc:  # noqa: BLE001 - one final error event, never a crash
            event = _watch.outcome_event(
                "error", self.execution_id, self.container_name,
                error_message=f"{type(exc).__name__}: {exc}",
                unreachable=isinstance(exc, WatchUnreachable))
        yield await self._end(event)

    async def _follow(self) -> dict[str, Any]:
        store = await self.links.store()
        recent = await self.links.retrying("reading the heartbeat log", store.history,
                                           self.execution_id, 1)
        last_id = recent[-1].id if recent else "0-0"
        self.log.info("Watching execution %s (container %s on %s)", self.execution_id,
                      self.container_name, self.ssh_conn_id)
        exits = asyncio.ensure_future(self._exit_of_container())
        try:
            return await self._loop(store, last_id, exits)
        finally:
            exits.cancel()
            with contextlib.suppress(BaseException):
                await exits

    async def _loop(self, store: ExecutionStore, last_id: str,
                    exits: asyncio.Future[ContainerState]) -> dict[str, Any]:
        limits, last_logged, stopping = self._limits(), 0.0, False
        while True:
            ex = await self.links.retrying("reading the execution", store.get, self.execution_id)
            await self.lease.hold(store)
            seen = _observe(ex, exits, stopping)
            action = _watch.decide(seen, limits, self.container_name)
            if isinstance(action, _watch.Inspect):
                state = await self.links.retrying("asking Docker", self._inspect)
                seen = replace(seen, container=state)
                action = _watch.decide(seen, limits, self.container_name)
            if isinstance(action, _watch.StopContainer):
                self.log.warning(action.message)
                _in_background(self._stop_quietly())
                stopping = True
                continue
            if not isinstance(action, _watch.Wait):
                return await self._act(store, ex, action)
            if action.warn:
                self.log.warning(action.warn)
            if ex is not None and _watch.should_log(seen.now, last_logged, limits):
                last_logged = seen.now
                self.log.info("%s: %s; %s", ex.status, summarize_progress(ex.progress),
                              f"last heartbeat {seen.silence:.0f}s ago" if seen.beating
                              else "waiting for the first heartbeat")
            last_id = await self._next_events(store, last_id, action.seconds, exits)

    async def _next_events(self, store: ExecutionStore, last_id: str, seconds: float,
                           exits: asyncio.Future[ContainerState]) -> str:
        """Wait for the next events on the stream, or for the container to stop."""
        read = asyncio.ensure_future(self.links.retrying(
            "reading the heartbeat log", store.read_events, self.execution_id, last_id,
            block_ms=int(seconds * 1000) + 1, count=100))
        if not exits.done():
            either: set[asyncio.Future[Any]] = {read, exits}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not read.done():
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await read
            return last_id
        events = await read
        return events[-1].id if events else last_id

    @property
    def lease(self) -> WatchLease:
        if self._lease is None:
            self._lease = WatchLease(self.task_instance, self.links, self.log)
        return self._lease

    async def _exit_of_container(self) -> ContainerState:
        """Docker's word that the container stopped: its state then. Failures to ask are
        retried quietly; the main loop's own checks cover the time in between."""
        delay = 1.0
        while True:
            try:
                state = await self.links.host().docker().wait_exit(
                    self.container_name, timeout=_EXIT_WAIT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - never ends the watch by itself
                self.log.debug("Waiting on Docker for %s failed: %s", self.container_name, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)
                continue
            if state is not None and not state.running:
                return state
            delay = 1.0

    async def _inspect(self) -> ContainerState:
        return await self.links.host().docker().inspect(self.container_name)

    async def _act(self, store: ExecutionStore, ex: Execution | None,
                   action: _watch.Action) -> dict[str, Any]:
        """Carry out an ending action; the outcome event."""
        if isinstance(action, _watch.Finish) and ex is not None:
            return self._event(ex)
        if isinstance(action, _watch.Recover):
            recovered = await self._recover_completion(store)
            if recovered is not None:
                return self._event(recovered)
            reason = ("stopped after a cancel request" if action.status == states.CANCELLED
                      else "container stopped without reporting")
            final, _ = await store.finalize(
                self.execution_id, action.status, error_message=action.message,
                exit_code=action.exit_code, reason=reason)
            self.log.warning(action.message)
            return self._event(final)
        if isinstance(action, _watch.GiveUp):
            await self._stop_container(store)
            final, _ = await store.finalize(self.execution_id, states.FAILED,
                                            error_message=action.message, reason=action.reason)
            return self._event(final)
        raise ExecutionMissing(
            f"execution {self.execution_id} is not in Redis (expired, or the "
            f"connection {self.redis_conn_id!r} points at another Redis)")

    async def _recover_completion(self, store: ExecutionStore) -> Execution | None:
        """A container that exited without reaching the API may have left its
        completion in its output directory. Its bytes are the container's: decoded by
        the contract's codec, anything invalid is ignored."""
        try:
            raw = await self.links.retrying(
                "reading the completion file over SSH", self._read_completion_file)
        except Exception:  # noqa: BLE001 - an unreadable file means nothing to recover
            return None
        if raw is None:
            return None
        try:
            found = completion.decode(raw)
        except completion.CompletionError as exc:
            self.log.warning("Ignoring %s: %s", self.completion_file, exc)
            return None
        self.log.info("Recovered the completion from %s", self.completion_file)
        return await store.record_completion(
            self.execution_id, container_name=self.container_name, status=found.status,
            result_data=found.result_data, error_message=found.error_message)

    async def _read_completion_file(self) -> bytes | None:
        return await self.links.host().read_small_file(
            self.completion_file, completion.MAX_COMPLETION_BYTES)

    async def _stop_container(self, store: ExecutionStore | None) -> None:
        if store is not None:
            try:
                await store.request_cancel(self.execution_id)
            except Exception as exc:  # noqa: BLE001 - stopping the container matters more
                self.log.warning("Could not request cancel of %s: %s", self.execution_id, exc)
        await self.links.host().docker().stop(self.container_name, self.stop_grace_seconds)

    async def _stop_quietly(self) -> None:
        try:
            await self._stop_container(None)
        except Exception as exc:  # noqa: BLE001 - the exit watch still sees it stop
            self.log.warning("docker stop of %s failed: %s", self.container_name, exc)

    # -- endings --------------------------------------------------------------------
    async def _end(self, event: dict[str, Any]) -> TriggerEvent:
        """The one ending of every watch: the container's log into the task log, then
        the cleanup (after the event for a success, which need not wait for it)."""
        status = event["status"]
        await self.lease.release()
        if status == "error":
            await self._end_failed_watch(event)
            return TriggerEvent(event)
        # The log comes first: the trigger's log closes soon after its event.
        await self._copy_log_tail()
        if status == states.COMPLETED:
            _in_background(self._clean_up(succeeded=True))
            if self.finish_on_success:
                # Success ends the task here: no second trip through a worker.
                return TaskSuccessEvent(xcoms={"return_value": event.get("result_data") or {}})
        else:
            await self._clean_up(succeeded=False)
        return TriggerEvent(event)

    async def _end_failed_watch(self, event: dict[str, Any]) -> None:
        """The watch could not go on. If Redis or the host was only unreachable and a
        retry follows, the container keeps running for it; otherwise nothing that can
        no longer report anywhere is left running."""
        message = event["error_message"]
        if event.get("unreachable") and self.retry_follows:
            self.log.warning("%s; container %s is left running: the next try reattaches to "
                             "it", message, self.container_name)
            await self.links.close()
            return
        self.log.error("%s; stopping container %s", message, self.container_name)
        try:
            await asyncio.wait_for(self._stop_container(None), self.stop_grace_seconds + 15)
        except Exception as exc:  # noqa: BLE001 - the cleanup below still runs
            self.log.warning("Could not stop %s: %s", self.container_name, exc)
        with contextlib.suppress(Exception):
            store = await self.links.store()
            await asyncio.wait_for(store.finalize(
                self.execution_id, states.FAILED, error_message=f"the watch failed: {message}",
                reason="watch failed"), 5)
        await self._copy_log_tail()
        await self._clean_up(succeeded=False)

    async def _copy_log_tail(self) -> None:
        """The container's last log lines into the task log."""
        try:
            tail = await asyncio.wait_for(
                self.links.host().docker().logs_tail(self.container_name, 100), 20)
        except Exception as exc:  # noqa: BLE001 - the task's result matters more
            self.log.warning("Could not read the log of %s: %s", self.container_name, exc)
            return
        if tail.strip():
            self.log.info("Last lines of %s:\n%s", self.container_name, tail.rstrip())

    async def _clean_up(self, *, succeeded: bool, force_remove: bool = False) -> None:
        """Remove the config directory, and the container per policy (always, when
        ``force_remove``). Outputs stay. Closes the connections."""
        try:
            if self.config_dir:
                await self.links.host().remove_paths(self.config_dir)
            if force_remove or should_remove(self.remove_policy, succeeded=succeeded):
                await self.links.host().docker().remove(self.container_name)
        except Exception as exc:  # noqa: BLE001 - nobody awaits this
            self.log.warning("Cleanup of %s incomplete: %s", self.execution_id, exc)
        finally:
            await self.links.close()

    async def on_kill(self) -> None:
        """A user marked the deferred task failed or success, or cleared it: ask the
        task to stop, give it the grace period, then remove the container.

        First Airflow is asked whether the task really left ``deferred``: a trigger
        moved to another triggerer (apache/airflow#73454) must not stop a healthy
        container. The triggerer may cancel on_kill again on its next loop, so the work
        runs in a task of its own that the cancel cannot reach; it bounds itself well
        inside the triggerer's 30 s.
        """
        if await self.lease.moved_elsewhere():
            self.log.warning("on_kill for execution %s, but another triggerer watches this "
                             "try now (the trigger moved): container %s keeps running",
                             self.execution_id, self.container_name)
            await self.links.close()
            return
        self.log.info("Stopping execution %s on the user's request", self.execution_id)
        await asyncio.shield(_in_background(self._kill()))

    async def _kill(self) -> None:
        try:
            store = await self.links.store()
            await asyncio.wait_for(self._stop_container(store), self.stop_grace_seconds + 10)
            await store.finalize(self.execution_id, states.CANCELLED,
                                 error_message="stopped from Airflow", reason="on_kill")
        except Exception as exc:  # noqa: BLE001 - nobody awaits this task's result
            self.log.error("Stopping %s failed: %s", self.container_name, exc)
        await asyncio.wait_for(self._clean_up(succeeded=False, force_remove=True), 10)
        self.log.info("Container %s stopped and removed", self.container_name)

    def _event(self, ex: Execution) -> dict[str, Any]:
        return _watch.outcome_event(
            ex.status, ex.execution_id, self.container_name, result_data=ex.result_data,
            error_message=ex.error_message, exit_code=ex.exit_code,
            ssh_conn_id=self.ssh_conn_id)


def _observe(ex: Execution | None, exits: asyncio.Future[ContainerState],
             stopping: bool) -> _watch.Observation:
    container = None
    if exits.done() and not exits.cancelled() and exits.exception() is None:
        container = exits.result()
    now = time.time()
    if ex is None:
        return _watch.Observation(now=now, status=None, container=container)
    cancel_at = ex.cancel_requested_at if ex.cancel_requested else None
    return _watch.Observation(now=now, status=ex.status, created_at=ex.created_at,
                              last_heartbeat_at=ex.last_heartbeat_at, container=container,
                              cancel_requested_at=cancel_at, stopping=stopping)
