"""Errors raised by the execution store; the API maps each to one HTTP status."""

from __future__ import annotations

from heartbeat_contract import http


class StoreError(Exception):
    """Base of every error the execution store raises on purpose."""

    def __init__(self, execution_id: str, message: str) -> None:
        super().__init__(message)
        self.execution_id = execution_id


class UnknownExecution(StoreError):
    """No execution with this id is registered (or it has expired). HTTP 404."""

    def __init__(self, execution_id: str) -> None:
        super().__init__(
            execution_id,
            f"execution {execution_id!r} is not registered (or has expired); "
            f"register it first with POST {http.EXECUTIONS}",
        )


class ExecutionExists(StoreError):
    """Registration of an id that is already registered. HTTP 409."""

    def __init__(self, execution_id: str) -> None:
        super().__init__(
            execution_id,
            f"execution {execution_id!r} is already registered; use a new execution id",
        )


class FinalStateConflict(StoreError):
    """A write that contradicts a final state (final states are final). HTTP 409."""

    def __init__(self, execution_id: str, current_status: str, attempted: str) -> None:
        super().__init__(
            execution_id,
            f"execution {execution_id!r} is already {current_status}; "
            f"{attempted} refused because a final state never changes",
        )
        self.current_status = current_status
        self.attempted = attempted
