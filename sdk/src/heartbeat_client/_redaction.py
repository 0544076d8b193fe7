"""Secrets kept out of every log line, error message and output file a task emits.

One :class:`Redactor` per task run: whatever reads a secret (an API token, a database
URL) adds it, and everything leaving the container goes through it. ``run_task`` puts
a :class:`RedactingFilter` fed by the same redactor on the log handler, so no record
leaves with a known secret, whichever library wrote it.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "RedactingFilter", "Redactor"]

REDACTED = "***"
# Scrubbing output replaces bytes; a secret that could stand as a bare JSON token
# (a number, true, ...) or that is very short would corrupt data, so it is left there.
_UNSAFE_IN_OUTPUT = re.compile(r"^(-?[0-9.eE+]+|true|false|null)$")
_MIN_OUTPUT_SECRET = 8


class Redactor:
    """Replaces every known secret with ``***`` in text and in output bytes.

    ``text()`` (also the redactor called as a function) covers a secret as given and
    URL-encoded, as driver errors and URLs quote it. ``output()`` covers the secret
    raw and JSON-escaped, for secrets long enough to replace without corrupting data.
    """

    def __init__(self) -> None:
        self._secrets: list[str] = []
        # Longest first, so a secret containing another is replaced whole.
        self._text_forms: list[str] = []
        self._output_forms: list[bytes] = []

    def add(self, secret: str | None) -> None:
        """Register a secret; empty values and repeats are ignored."""
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        self._text_forms = sorted(set(self._text_forms) | forms, key=len, reverse=True)
        if len(secret) >= _MIN_OUTPUT_SECRET and not _UNSAFE_IN_OUTPUT.match(secret):
            output = set(self._output_forms) | _output_forms(secret)
            self._output_forms = sorted(output, key=len, reverse=True)

    @property
    def active(self) -> bool:
        """True once a secret was added: until then every method returns its input."""
        return bool(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._text_forms:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    __call__ = text

    def output(self, chunk: bytes) -> bytes:
        for secret in self._output_forms:
            if secret in chunk:
                chunk = chunk.replace(secret, REDACTED.encode())
        return chunk


def _output_forms(secret: str) -> set[bytes]:
    forms: set[bytes] = set()
    for form in (secret, json.dumps(secret, ensure_ascii=False)[1:-1]):
        try:
            forms.add(form.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate from the environment: never written
            pass
    return forms


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message, arguments and traceback, redacted.

    The last line of defence: on the handler, it sees records of every logger.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._redactor.active:
            return True
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._redactor.text(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redactor.text(record.stack_info)
        return True
