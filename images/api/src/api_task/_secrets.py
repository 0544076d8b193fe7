"""Secrets: read from the environment the config names, scrubbed from everything we emit."""

from __future__ import annotations

import re
from collections.abc import Mapping

import orjson

REDACTED = "***"
# Scrubbing the output replaces bytes; a secret that could stand as a bare JSON token
# (a number, true, ...) or that is very short would corrupt data, so it is left there.
_UNSAFE_IN_OUTPUT = re.compile(r"^(-?[0-9.eE+]+|true|false|null)$")
_MIN_OUTPUT_SECRET = 8


class MissingSecretError(ValueError):
    """An `*_env` key names a variable the container did not receive."""


class Redactor:
    """Replaces every known secret value with ``***`` in text and in output bytes."""

    def __init__(self) -> None:
        self._secrets: list[str] = []
        self._output_secrets: list[tuple[bytes, bytes]] = []

    def add(self, secret: str) -> None:
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        # Longest first, so a secret containing another is scrubbed whole.
        self._secrets.sort(key=len, reverse=True)
        if len(secret) >= _MIN_OUTPUT_SECRET and not _UNSAFE_IN_OUTPUT.match(secret):
            raw = secret.encode()
            escaped = orjson.dumps(secret)[1:-1]
            for form in {raw, escaped}:
                self._output_secrets.append((form, REDACTED.encode()))
            self._output_secrets.sort(key=lambda pair: len(pair[0]), reverse=True)

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def output(self, chunk: bytes) -> bytes:
        for secret, replacement in self._output_secrets:
            if secret in chunk:
                chunk = chunk.replace(secret, replacement)
        return chunk


def read_secret(env: Mapping[str, str], variable: str, field: str, redactor: Redactor) -> str:
    """The value of `variable`, registered with the redactor before anyone can print it."""
    value = env.get(variable, "")
    if not value:
        raise MissingSecretError(
            f"{field}: environment variable {variable} is not set or empty; pass it to the "
            "container (the operator sets it from the Airflow connection)"
        )
    redactor.add(value)
    return value
