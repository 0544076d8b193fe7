"""heartbeat-client: heartbeats, progress and completion for containerised tasks.

Standard library only, Python 3.9+.

    from heartbeat_client import HeartbeatClient, load_config

    with HeartbeatClient.from_env() as client:
        config = load_config()
        client.update_status("running", {"stage": "fetching"})
        if client.should_stop():
            ...
        client.set_result({"rows": 10})

Errors: ``HeartbeatError`` is the base of everything raised here;
``ConfigurationError`` (a missing environment variable, a bad argument or
an unreadable config file) is the only one raised, and only by the
constructors, ``from_env()`` and ``load_config()``.
"""

from __future__ import annotations

from ._client import HeartbeatClient
from ._completion_file import COMPLETION_FILENAME
from ._config import load_config
from ._errors import ConfigurationError, HeartbeatError
from ._heartbeats import PROTOCOL_VERSION

__all__ = [
    "COMPLETION_FILENAME",
    "PROTOCOL_VERSION",
    "ConfigurationError",
    "HeartbeatClient",
    "HeartbeatError",
    "load_config",
]

__version__ = "0.1.0"
