"""The background heartbeat loop: latest state only, sent on a schedule.

Memory stays bounded whatever the outage: the loop holds one status and one
progress dict (the task's latest), never a queue of past messages. A
heartbeat that fails is not resent; the next one carries the newer state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from heartbeat_contract import PROTOCOL_VERSION, environment, states

from ._backoff import Backoff
from ._transport import PostResult, encode_body, post_json

__all__ = ["PROTOCOL_VERSION", "STOPPING", "HeartbeatLoop"]

# What heartbeats report once a stop was requested: a passing status of the
# container, not one of the execution states (those are heartbeat_contract.states).
STOPPING = "stopping"

logger = logging.getLogger("heartbeat_client")


class HeartbeatLoop:
    """Sends heartbeats from a daemon thread; every public method is thread-safe.

    A heartbeat goes out every ``interval`` seconds, and sooner (at most one
    per ``progress_interval``) when the status or progress changed. Failed
    sends are retried with jittered backoff that honours ``Retry-After``.
    """

    def __init__(
        self,
        *,
        url: str,
        token: str | None,
        execution_id: str,
        container_name: str,
        interval: float,
        progress_interval: float,
        request_timeout: float,
        backoff: Backoff,
        is_stopping: Callable[[], bool],
        on_cancel_requested: Callable[[], None],
        post: Callable[[str, bytes, str | None, float], PostResult] = post_json,
    ) -> None:
        self._url = url
        self._token = token
        self._execution_id = execution_id
        self._container_name = container_name
        self._interval = interval
        self._progress_interval = progress_interval
        self._request_timeout = request_timeout
        self._backoff = backoff
        self._is_stopping = is_stopping
        self._on_cancel_requested = on_cancel_requested
        self._post = post
        # Reentrant: a signal handler on the main thread may call touch() while
        # that same thread is inside update() holding the lock.
        self._cond = threading.Condition(threading.RLock())
        self._status = states.RUNNING
        self._progress: dict[str, Any] = {}
        self._version = 0  # bumped by every change the API should hear about
        self._handled_version = -1  # last version the API acknowledged (or refused for good)
        self._oversize_version = -1  # version whose progress the API refused as too big
        self._flush_requested = False  # flush() skips the progress spacing
        self._closing = False
        self._execution_final = False
        self._thread: threading.Thread | None = None
        self._failures_in_row = 0
        self.sent_count = 0

    # ---- called from task code -------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None or self._closing:
                return
            self._thread = threading.Thread(target=self._run, name="heartbeat-client", daemon=True)
            self._thread.start()

    def update(self, status: str, progress: Mapping[str, Any] | None) -> None:
        with self._cond:
            self._status = status
            if progress:
                self._progress.update(progress)
            self._version += 1
            self._cond.notify_all()

    def touch(self) -> None:
        """Make the next heartbeat go out soon (e.g. the status turned ``stopping``)."""
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    def snapshot(self) -> tuple[str, dict[str, Any]]:
        with self._cond:
            return self._status, dict(self._progress)

    def mark_execution_final(self) -> None:
        """The API holds a final state: heartbeats would only be refused now."""
        with self._cond:
            self._execution_final = True
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until the latest state was sent; True if it was."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flush_requested = True
            self._cond.notify_all()
            while self._handled_version < self._version:
                if self._execution_final or self._thread is None or not self._thread.is_alive():
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._closing

    # ---- the background thread ---------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # a bug here must not kill the task, only the heartbeats
            logger.exception("the heartbeat thread stopped on an unexpected error")

    def _loop(self) -> None:
        next_due = 0.0  # the first heartbeat goes out at once: the execution is running
        last_attempt = float("-inf")
        retry_at: float | None = None
        while True:
            with self._cond:
                while True:
                    if self._closing or self._execution_final:
                        return
                    now = time.monotonic()
                    if retry_at is not None:
                        due = retry_at
                    elif self._handled_version < self._version:
                        spacing = 0.0 if self._flush_requested else self._progress_interval
                        due = min(next_due, last_attempt + spacing)
                    else:
                        due = next_due
                    if now >= due:
                        break
                    self._cond.wait(due - now)
                version = self._version
                payload = self._build_payload(version)
            result = self._post(self._url, payload, self._token, self._request_timeout)
            # Spacing counts from the end of a send, so a slow API slows progress down too.
            last_attempt = time.monotonic()
            retry_at = self._handle_result(result, version)
            next_due = last_attempt + self._interval

    def _build_payload(self, version: int) -> bytes:
        status = STOPPING if self._is_stopping() else self._status
        progress = {} if version == self._oversize_version else self._progress
        return encode_body(
            {
                "execution_id": self._execution_id,
                "container_name": self._container_name,
                "status": status,
                "progress": progress,
                "timestamp": int(time.time()),
                "protocol_version": PROTOCOL_VERSION,
            }
        )

    def _handle_result(self, result: PostResult, version: int) -> float | None:
        """Record one send's outcome; return when to retry, or None for the normal schedule."""
        if result.ok:
            if self._failures_in_row:
                logger.info(
                    "heartbeats delivered again after %d failed attempts", self._failures_in_row
                )
            self._failures_in_row = 0
            self._backoff.reset()
            self.sent_count += 1
            self._mark_handled(version)
            if result.body is not None and result.body.get("cancel_requested") is True:
                self._on_cancel_requested()
            return None
        if result.status == 409:
            logger.info(
                "execution %s is already final on the API; no more heartbeats",
                self._execution_id,
            )
            self.mark_execution_final()
            return None
        if result.retryable:
            delay = self._backoff.next_delay(result.retry_after)
            self._failures_in_row += 1
            log = logger.warning if self._failures_in_row == 1 else logger.debug
            log(
                "heartbeat for execution %s not delivered (%s); retrying in %.1f s",
                self._execution_id,
                result.error,
                delay,
            )
            return time.monotonic() + delay
        # Refused for good (401, 403, 404, 413, 422...): resending the same state
        # cannot help, so wait for the next change or the next interval.
        self._failures_in_row += 1
        if result.status in (413, 422):
            with self._cond:
                self._oversize_version = version
            logger.error(
                "heartbeat API refused the progress of execution %s (HTTP %s: %s); "
                "sending heartbeats without it until the progress changes",
                self._execution_id,
                result.status,
                _detail(result),
            )
        else:
            logger.error(
                "heartbeat API refused heartbeats of execution %s (HTTP %s: %s); check "
                "%s and %s",
                self._execution_id,
                result.status,
                _detail(result),
                environment.HEARTBEAT_TOKEN,
                environment.TASK_EXECUTION_ID,
            )
        self._mark_handled(version)
        return None

    def _mark_handled(self, version: int) -> None:
        with self._cond:
            self._handled_version = max(self._handled_version, version)
            if self._handled_version >= self._version:
                self._flush_requested = False
            self._cond.notify_all()


def _detail(result: PostResult) -> str:
    if result.body is not None and "detail" in result.body:
        return str(result.body["detail"])[:300]
    return result.error or "no detail"
