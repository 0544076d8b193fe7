"""The one error a sync raises, and the scrubbing that keeps passwords out of it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus


class SyncError(Exception):
    """A sync that cannot go on. The message names the table, column or variable at
    fault, says what to do, and never holds a password. ``partial`` is the result of
    the tables done before it."""

    partial: dict[str, Any] | None = None


class Scrubber:
    """Replaces every known secret (in plain and URL-encoded forms) with ``***``.

    Driver exceptions may quote a connection string, so every message leaving the
    sync passes through here.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 1:
            for form in (secret, quote(secret, safe=""), quote_plus(secret)):
                self._secrets.add(form)

    def secrets(self) -> Iterable[str]:
        return self._secrets

    def __call__(self, text: str) -> str:
        # Longest first, so a secret that contains another is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def error(self, context: str, exc: BaseException) -> SyncError:
        """A SyncError for ``exc`` prefixed with ``context``, secrets removed."""
        detail = str(exc).strip() or type(exc).__name__
        # Driver messages can run over many lines (query text, hints): keep them short.
        lines = [line for line in detail.splitlines() if line.strip()]
        detail = " | ".join(lines[:4])
        return SyncError(self(f"{context}: {type(exc).__name__}: {detail}"))
