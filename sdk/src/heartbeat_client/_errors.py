"""The SDK's exception tree.

Only constructors, ``HeartbeatClient.from_env()`` and ``load_config()`` raise
these. Nothing on the background path (heartbeats, progress, completion
delivery) ever raises into task code: failures there are logged instead.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "HeartbeatError"]


class HeartbeatError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(HeartbeatError):
    """The client or the task config cannot be set up as given.

    The message names the environment variable, argument or file at fault
    and says what to do about it.
    """
