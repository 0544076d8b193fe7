"""HeartbeatTrigger: waits in the triggerer, holding no worker slot, on the
execution's event stream in Redis, and asks Docker only when a heartbeat is late.

It observes; :mod:`heartbeat_operator._watch` decides. Every ending (completed, failed,
lost, cancelled, timed out, a watch that failed, a user's kill) goes through one
cleanup, :meth:`HeartbeatTrigger._clean_up`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any, TypeVar

import redis.asyncio as aioredis
from airflow.providers.common.compat.connection import get_async_connection
from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent
from heartbeat_contract import completion, states
from heartbeat_store import Execution, ExecutionStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from heartbeat_operator import _watch
from heartbeat_operator._remote import should_remove, summarize_progress
from heartbeat_operator.hooks import ExecutionHost, redis_url_from_connection
from heartbeat_operator.settings import DockerEndpoint

T = TypeVar("T")
# Kill tasks in flight; a reference keeps them from being garbage-collected.
_BACKGROUND: set[asyncio.Future[None]] = set()


def _in_background(work: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
    """Run work in a task of its own, safe from the trigger's cancellation."""
    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


_TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


class HeartbeatTrigger(BaseTrigger):
    """Watch one execution until it reaches a final state.

    After ``heartbeat_timeout`` seconds without a heartbeat (``startup_timeout`` before
    the first one) it asks Docker about the container: not running means ``lost``
    (unless the container left a ``_completion.json``), running but silent is
    tolerated for ``silent_running_timeout`` more seconds, then the container is
    stopped and the execution fails (see ``_watch.decide``). Timeouts count from the
    last heartbeat recorded in Redis, so a restarted triggerer resumes where the last
    one was.
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
        self._redis: aioredis.Redis | None = None
        self._execution_host: ExecutionHost | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "execution_id": self.execution_id,
                "container_name": self.container_name,
                "redis_conn_id": self.redis_conn_id,
                "ssh_conn_id": self.ssh_conn_id,
                "docker_endpoint": self.docker_endpoint,
                "completion_file": self.completion_file,
                "heartbeat_timeout": self.heartbeat_timeout,
                "startup_timeout": self.startup_timeout,
                "silent_running_timeout": self.silent_running_timeout,
                "deadline": self.deadline,
                "stop_grace_seconds": self.stop_grace_seconds,
                "log_interval": self.log_interval,
                "retry_budget": self.retry_budget,
                "config_dir": self.config_dir,
                "remove_policy": self.remove_policy,
                "finish_on_success": self.finish_on_success,
            },
        )

    # -- connections (one of each, reused for the whole wait) ---------------------
    async def _store(self) -> ExecutionStore:
        if self._redis is None:
            conn = await get_async_connection(self.redis_conn_id)
            self._redis = aioredis.from_url(
                redis_url_from_connection(conn),
                socket_connect_timeout=5,
                socket_timeout=30,
                health_check_interval=15,
            )
        return ExecutionStore(self._redis)

    def _host(self) -> ExecutionHost:
        if self._execution_host is None:
            self._execution_host = ExecutionHost(
                self.ssh_conn_id, DockerEndpoint(**self.docker_endpoint), timeout=20)
        return self._execution_host

    async def _close(self) -> None:
        if self._execution_host is not None:
            self._execution_host.close()
            self._execution_host = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _retrying(
        self, what: str, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """Retry connection errors with jittered backoff, up to the retry budget."""
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await call(*args, **kwargs)
            except _TRANSIENT as exc:
                attempt += 1
                delay = _watch.retry_delay(attempt, time.monotonic() - started, self.retry_budget)
                if delay is None:
                    raise ConnectionError(
                        f"{what} failed for {self.retry_budget:.0f}s: {type(exc).__name__}: {exc}"
                    ) from exc
                self.log.warning("%s failed (%s), retrying in %.1fs", what, exc, delay)
                if self._execution_host is not None and (
                        "ssh" in what.lower() or "docker" in what.lower()):
                    self._execution_host.close()  # reconnect next time
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))

    def _limits(self) -> _watch.Limits:
        return _watch.Limits(
            heartbeat_timeout=self.heartbeat_timeout, startup_timeout=self.startup_timeout,
            silent_running_timeout=self.silent_running_timeout, deadline=self.deadline,
            log_interval=self.log_interval)

    # -- the wait -------------------------------------------------------------------
    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._follow()
        except Exception as exc:  # noqa: BLE001 - one final error event, never a crash
            event = _watch.outcome_event(
                "error", self.execution_id, self.container_name,
                error_message=f"{type(exc).__name__}: {exc}")
        yield await self._end(event)

    async def _end(self, event: dict[str, Any]) -> TriggerEvent:
        """The one ending of every watch: the container's log into the task log, then
        the cleanup (after the event for a success, which need not wait for it)."""
        succeeded = event["status"] == states.COMPLETED
        # The log comes first: the trigger's log closes soon after its event.
        await self._copy_log_tail()
        if succeeded:
            _in_background(self._clean_up(succeeded=True))
        else:
            await self._clean_up(succeeded=False)
        if succeeded and self.finish_on_success:
            # Success ends the task here: no second trip through a worker.
            return TaskSuccessEvent(xcoms={"return_value": event.get("result_data") or {}})
        return TriggerEvent(event)

    async def _copy_log_tail(self) -> None:
        """The container's last log lines into the task log."""
        try:
            tail = await self._host().docker().logs_tail(self.container_name, 100)
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
                await self._host().remove_paths(self.config_dir)
            if force_remove or should_remove(self.remove_policy, succeeded=succeeded):
                await self._host().docker().remove(self.container_name)
        except Exception as exc:  # noqa: BLE001 - nobody awaits this
            self.log.warning("Cleanup of %s incomplete: %s", self.execution_id, exc)
        finally:
            await self._close()

    async def _follow(self) -> dict[str, Any]:
        store = await self._store()
        recent = await self._retrying("reading the heartbeat log", store.history,
                                      self.execution_id, 1)
        last_id = recent[-1].id if recent else "0-0"
        last_logged = 0.0
        limits = self._limits()
        self.log.info("Watching execution %s (container %s)", self.execution_id,
                      self.container_name)
        while True:
            ex = await self._retrying("reading the execution", store.get, self.execution_id)
            seen = _observe(ex)
            action = _watch.decide(seen, limits, self.container_name)
            if isinstance(action, _watch.Inspect):
                state = await self._retrying("asking Docker", self._inspect)
                seen = replace(seen, container=state)
                action = _watch.decide(seen, limits, self.container_name)
            if not isinstance(action, _watch.Wait):
                return await self._act(store, ex, action)
            if action.warn:
                self.log.warning(action.warn)
            if ex is not None and _watch.should_log(seen.now, last_logged, limits):
                last_logged = seen.now
                self.log.info("%s: %s; %s", ex.status, summarize_progress(ex.progress),
                              f"last heartbeat {seen.silence:.0f}s ago" if seen.beating
                              else "waiting for the first heartbeat")
            events = await self._retrying(
                "reading the heartbeat log", store.read_events, self.execution_id, last_id,
                block_ms=int(action.seconds * 1000) + 1, count=100)
            if events:
                last_id = events[-1].id

    async def _inspect(self) -> Any:
        return await self._host().docker().inspect(self.container_name)

    async def _act(self, store: ExecutionStore, ex: Execution | None,
                   action: _watch.Action) -> dict[str, Any]:
        """Carry out an ending action; the outcome event."""
        if isinstance(action, _watch.Finish) and ex is not None:
            return self._event(ex)
        if isinstance(action, _watch.Recover):
            recovered = await self._recover_completion(store)
            if recovered is not None:
                return self._event(recovered)
            final, _ = await store.finalize(
                self.execution_id, states.LOST, error_message=action.message,
                exit_code=action.exit_code, reason="no heartbeat and container not running")
            return self._event(final)
        if isinstance(action, _watch.GiveUp):
            await self._stop_container(store)
            final, _ = await store.finalize(self.execution_id, states.FAILED,
                                            error_message=action.message, reason=action.reason)
            return self._event(final)
        raise LookupError(
            f"execution {self.execution_id} is not in Redis (expired, or the "
            f"connection {self.redis_conn_id!r} points at another Redis)")

    async def _recover_completion(self, store: ExecutionStore) -> Execution | None:
        """A container that exited without reaching the API may have left its
        completion in its output directory. Its bytes are the container's: decoded by
        the contract's codec, anything invalid is ignored."""
        try:
            raw = await self._retrying("reading the completion file over SSH",
                                       self._host().read_small_file, self.completion_file,
                                       completion.MAX_COMPLETION_BYTES)
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

    async def _stop_container(self, store: ExecutionStore) -> None:
        try:
            await store.request_cancel(self.execution_id)
        except Exception as exc:  # noqa: BLE001 - stopping the container matters more
            self.log.warning("Could not request cancel of %s: %s", self.execution_id, exc)
        await self._host().docker().stop(self.container_name, self.stop_grace_seconds)

    async def on_kill(self) -> None:
        """A user marked the deferred task failed or success, or cleared it: ask the
        task to stop, give it the grace period, then remove the container.

        The triggerer may cancel on_kill again on its next loop (about a second
        later), so the work runs in a task of its own that the cancel cannot reach;
        it bounds itself well inside the triggerer's 30 s.
        """
        self.log.info("Stopping execution %s on the user's request", self.execution_id)
        await asyncio.shield(_in_background(self._kill()))

    async def _kill(self) -> None:
        try:
            store = await self._store()
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


def _observe(ex: Execution | None) -> _watch.Observation:
    if ex is None:
        return _watch.Observation(now=time.time(), status=None)
    return _watch.Observation(now=time.time(), status=ex.status, created_at=ex.created_at,
                              last_heartbeat_at=ex.last_heartbeat_at)
