"""Secrets: read from the environment the config names, registered with the run's
redactor (heartbeat_client.Redactor) before anyone can print them."""

from __future__ import annotations

from collections.abc import Mapping

from heartbeat_client import Redactor

__all__ = ["MissingSecretError", "Redactor", "read_secret"]


class MissingSecretError(ValueError):
    """An `*_env` key names a variable the container did not receive."""


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
