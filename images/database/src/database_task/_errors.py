"""The one error a sync raises, built so that no password gets into it."""

from __future__ import annotations

from typing import Any

from heartbeat_client import Redactor, TaskFailure


class SyncError(TaskFailure):
    """A sync that cannot go on. The message names the table, column or variable at
    fault, says what to do, and never holds a password. ``partial`` (the SDK's
    ``partial_result``) is the result of the tables done before it."""

    @property
    def partial(self) -> dict[str, Any] | None:
        return self.partial_result

    @partial.setter
    def partial(self, value: dict[str, Any] | None) -> None:
        self.partial_result = value


def redacted_error(redactor: Redactor, context: str, exc: BaseException) -> SyncError:
    """A SyncError for ``exc`` prefixed with ``context``, secrets removed.

    Driver exceptions may quote a connection string, so every message leaving the
    sync passes through the run's redactor (plain and URL-encoded forms)."""
    detail = str(exc).strip() or type(exc).__name__
    # Driver messages can run over many lines (query text, hints): keep them short.
    lines = [line for line in detail.splitlines() if line.strip()]
    detail = " | ".join(lines[:4])
    return SyncError(redactor.text(f"{context}: {type(exc).__name__}: {detail}"))
