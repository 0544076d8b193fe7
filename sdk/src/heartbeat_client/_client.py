"""``HeartbeatClient``: the one object a task uses to talk to the heartbeat API."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from heartbeat_contract import environment, states
from heartbeat_contract import http as api_paths
from heartbeat_contract.completion import COMPLETION_FILENAME

from ._backoff import Backoff
from ._completion import completion_payload, describe_error, final_status
from ._completion_file import write_completion_file
from ._config import (
    check_api_base_url,
    output_dir_from_env,
    parse_interval,
    settings_from_env,
)
from ._errors import ConfigurationError
from ._heartbeats import HeartbeatLoop
from ._signals import SignalHandlers
from ._transport import PostResult, post_json

__all__ = ["HeartbeatClient"]

logger = logging.getLogger("heartbeat_client")


class HeartbeatClient:
    """Heartbeats, progress, stop requests and the completion of one execution.

    Use it as a context manager (``with HeartbeatClient.from_env() as client:``)
    to get the completion sent on exit, or call ``start()``, ``update_status()``,
    ``send_completion()`` and ``stop()`` yourself as the original guide does.
    Nothing but the constructors raises: network trouble is retried and logged.
    """

    def __init__(
        self,
        api_base_url: str,
        execution_id: str,
        container_name: str,
        heartbeat_interval: float = 30,
        *,
        token: str | None = None,
        output_dir: str | None = None,
        completion_timeout: float = 60.0,
        request_timeout: float = 10.0,
        progress_interval: float = 1.0,
        max_backoff: float = 30.0,
        handle_signals: bool = True,
    ) -> None:
        self.execution_id = _checked_execution_id(execution_id)
        self.api_base_url = check_api_base_url(str(api_base_url), "api_base_url")
        self.container_name = str(container_name)
        self.heartbeat_interval = parse_interval(heartbeat_interval, "heartbeat_interval")
        self.heartbeat_url = f"{self.api_base_url}{api_paths.HEARTBEAT}"
        self.completion_url = f"{self.api_base_url}{api_paths.COMPLETION}"
        self.output_dir = output_dir or output_dir_from_env()
        self.completion_timeout = completion_timeout
        self.request_timeout = request_timeout
        self.max_backoff = max_backoff
        self._token = _token_or_env(token, self.execution_id)
        self._stop_event = threading.Event()
        self._stop_reason: str | None = None
        self._result: dict[str, Any] = {}
        self._completion_attempted = False
        self._completion_acknowledged = False
        self._closed = False
        self._lifecycle_lock = threading.Lock()
        self._handle_signals = handle_signals
        self._signals: SignalHandlers | None = None
        self._heartbeats = HeartbeatLoop(
            url=self.heartbeat_url,
            token=self._token,
            execution_id=self.execution_id,
            container_name=self.container_name,
            interval=self.heartbeat_interval,
            progress_interval=progress_interval,
            request_timeout=request_timeout,
            backoff=Backoff(cap=max_backoff),
            is_stopping=self._stop_event.is_set,
            on_cancel_requested=self._on_cancel_requested,
        )

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        completion_timeout: float = 60.0,
        request_timeout: float = 10.0,
        handle_signals: bool = True,
    ) -> HeartbeatClient:
        """A client configured by the environment of docs/contracts/environment.md.

        Reads TASK_EXECUTION_ID, API_BASE_URL, HEARTBEAT_TOKEN (all required),
        HOSTNAME, HEARTBEAT_INTERVAL (default 5 s) and OUTPUT_DIR (default
        /app/output); raises ConfigurationError naming a missing or bad one.
        """
        settings = settings_from_env(env)
        return cls(
            settings.api_base_url,
            settings.execution_id,
            settings.container_name,
            settings.heartbeat_interval,
            token=settings.token,
            output_dir=settings.output_dir,
            completion_timeout=completion_timeout,
            request_timeout=request_timeout,
            handle_signals=handle_signals,
        )

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start heartbeats (and SIGTERM/SIGINT handling on the main thread); idempotent."""
        with self._lifecycle_lock:
            if self._closed:
                logger.warning("start() after stop() is ignored: make a new client")
                return
            if self._handle_signals and self._signals is None:
                self._signals = SignalHandlers(self._on_signal)
                self._signals.install()
            self._heartbeats.start()
        logger.info("heartbeat client started for execution %s", self.execution_id)

    def stop(self) -> None:
        """Stop heartbeats and put signal handlers back; idempotent (same as close())."""
        self.close()

    def close(self, timeout: float = 5.0) -> None:
        """Stop heartbeats and put signal handlers back; idempotent."""
        with self._lifecycle_lock:
            if self._closed:
                return
            self._closed = True
            signals = self._signals
        self._heartbeats.close(timeout)
        if signals is not None:
            signals.restore()
        logger.info("heartbeat client stopped for execution %s", self.execution_id)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` s for the latest status and progress to be sent."""
        return self._heartbeats.flush(timeout)

    def __enter__(self) -> HeartbeatClient:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self._completion_attempted:
                success, status, error_message = self._outcome(exc)
                self.flush(timeout=min(2.0, self.heartbeat_interval))
                self.send_completion(
                    success, self.result, error_message=error_message, status=status
                )
        finally:
            self.close()
        # Returning None lets an exception from the task go on to the caller.

    def _outcome(self, exc: BaseException | None) -> tuple[bool, str, str | None]:
        clean_exit = exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None))
        if clean_exit:
            if self._stop_event.is_set():
                return False, states.CANCELLED, f"stopped before the end: {self._stop_reason}"
            return True, states.COMPLETED, None
        assert exc is not None
        message = describe_error(exc)
        if isinstance(exc, KeyboardInterrupt):
            return False, states.CANCELLED, message
        return False, states.FAILED, message

    # ---- what task code calls ----------------------------------------------------

    def update_status(self, status: str, progress: Mapping[str, Any] | None = None) -> None:
        """Set the status and merge ``progress`` into the progress sent with heartbeats."""
        if progress is not None and not isinstance(progress, Mapping):
            logger.warning(
                "update_status() ignored progress of type %s: it must be a dict",
                type(progress).__name__,
            )
            progress = None
        self._heartbeats.update(str(status), progress)

    @property
    def task_status(self) -> str:
        return self._heartbeats.snapshot()[0]

    @property
    def task_progress(self) -> dict[str, Any]:
        """A copy of the progress merged so far."""
        return self._heartbeats.snapshot()[1]

    @property
    def is_running(self) -> bool:
        return self._heartbeats.alive

    def should_stop(self) -> bool:
        """True once SIGTERM/SIGINT arrived or the API asked this execution to stop."""
        return self._stop_event.is_set()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def request_stop(self, reason: str = "requested by the task") -> None:
        """Set the stop flag as a signal would: heartbeats report ``stopping``."""
        if self._stop_event.is_set():
            return
        self._stop_reason = reason
        self._stop_event.set()
        logger.warning("execution %s is stopping: %s", self.execution_id, reason)
        self._heartbeats.touch()

    def _on_signal(self, signal_name: str) -> None:
        self.request_stop(f"received {signal_name}")

    def _on_cancel_requested(self) -> None:
        self.request_stop("cancel requested through the heartbeat API")

    def set_result(self, result: Mapping[str, Any]) -> None:
        """Set the result_data the completion will carry (replaces an earlier one)."""
        if not isinstance(result, Mapping):
            logger.warning(
                "set_result() ignored a %s: the result must be a dict", type(result).__name__
            )
            return
        self._result = dict(result)

    @property
    def result(self) -> dict[str, Any]:
        return dict(self._result)

    @property
    def completion_acknowledged(self) -> bool:
        return self._completion_acknowledged

    def send_completion(
        self,
        success: bool,
        result_data: Mapping[str, Any] | None = None,
        error_message: str | None = None,
        *,
        status: str | None = None,
    ) -> bool:
        """Report the end of the execution; True once the API acknowledged it.

        The completion is first written to the completion file
        (``COMPLETION_FILENAME``) in ``output_dir``, then sent until the API
        answers 200 or ``completion_timeout`` seconds pass. Blocks meanwhile;
        never raises.
        """
        try:
            return self._send_completion(success, result_data, error_message, status)
        except Exception:  # never into task code, whatever went wrong
            logger.exception("sending the completion of execution %s failed", self.execution_id)
            return False

    def _send_completion(
        self,
        success: bool,
        result_data: Mapping[str, Any] | None,
        error_message: str | None,
        status: str | None,
    ) -> bool:
        self._completion_attempted = True
        payload = completion_payload(
            execution_id=self.execution_id,
            container_name=self.container_name,
            success=success,
            status=final_status(success, status),
            result_data=result_data,
            error_message=error_message,
        )
        write_completion_file(self.output_dir, payload)
        acknowledged = self._deliver_completion(payload)
        self._completion_acknowledged = acknowledged
        return acknowledged

    def _deliver_completion(self, payload: bytes) -> bool:
        deadline = time.monotonic() + self.completion_timeout
        backoff = Backoff(cap=self.max_backoff)
        attempts = 0
        while True:
            attempts += 1
            remaining = deadline - time.monotonic()
            timeout = max(0.5, min(self.request_timeout, remaining))
            result: PostResult = post_json(self.completion_url, payload, self._token, timeout)
            if result.ok:
                self._heartbeats.mark_execution_final()
                logger.info(
                    "completion of execution %s acknowledged (attempt %d)",
                    self.execution_id,
                    attempts,
                )
                return True
            if result.status == 409:
                self._heartbeats.mark_execution_final()
                logger.warning(
                    "the API already holds a different final state for execution %s (409); "
                    "this completion was not recorded",
                    self.execution_id,
                )
                return False
            if not result.retryable:
                logger.error(
                    "the API refused the completion of execution %s (HTTP %s%s); it is kept "
                    "in %s/%s",
                    self.execution_id,
                    result.status,
                    _detail_suffix(result),
                    self.output_dir,
                    COMPLETION_FILENAME,
                )
                return False
            delay = backoff.next_delay(result.retry_after)
            if time.monotonic() + delay > deadline:
                logger.error(
                    "gave up sending the completion of execution %s after %d attempts over "
                    "%.0f s (last: %s); it is kept in %s/%s",
                    self.execution_id,
                    attempts,
                    self.completion_timeout,
                    result.error,
                    self.output_dir,
                    COMPLETION_FILENAME,
                )
                return False
            logger.warning(
                "completion of execution %s not delivered (%s); retrying in %.1f s",
                self.execution_id,
                result.error,
                delay,
            )
            time.sleep(delay)


def _detail_suffix(result: PostResult) -> str:
    if result.body is not None and "detail" in result.body:
        return f": {str(result.body['detail'])[:300]}"
    return ""


def _checked_execution_id(execution_id: str) -> str:
    if not execution_id or not str(execution_id).strip():
        raise ConfigurationError(
            f"execution_id is empty: pass the execution's id ({environment.TASK_EXECUTION_ID})"
        )
    return str(execution_id).strip()


def _token_or_env(token: str | None, execution_id: str) -> str | None:
    """``token``, else ``$HEARTBEAT_TOKEN``; a warning when neither is there."""
    if token is None:
        token = os.environ.get(environment.HEARTBEAT_TOKEN, "").strip() or None
    if token is None:
        logger.warning(
            "%s is not set: the heartbeat API will refuse every message of execution %s",
            environment.HEARTBEAT_TOKEN,
            execution_id,
        )
    return token
