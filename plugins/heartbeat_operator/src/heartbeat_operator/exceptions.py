"""What a failed heartbeat task raises; each is an AirflowException, so retries apply."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException, AirflowFailException


class HeartbeatTaskError(AirflowException):
    """Base of every error this package raises for a task run."""

    def __init__(self, message: str, *, execution_id: str = "", exit_code: int | None = None):
        self.execution_id = execution_id
        self.exit_code = exit_code
        super().__init__(message)


class TaskFailed(HeartbeatTaskError):
    """The container reported failure (or timed out)."""


class ContainerLost(HeartbeatTaskError):
    """No heartbeat for the timeout and the container is not running."""


class TaskCancelled(HeartbeatTaskError, AirflowFailException):
    """The task stopped on a cancel request or SIGTERM. Not retried: a cancel means stop."""


class TriggerError(HeartbeatTaskError):
    """The trigger could not watch the execution (Redis or Docker unreachable too long)."""


class LaunchFailed(HeartbeatTaskError):
    """The container could not be started (a retry may succeed, e.g. a registry that
    did not answer)."""
