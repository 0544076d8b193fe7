"""The heartbeat API: the FastAPI service in front of the Redis store.

The Redis schema itself is the ``heartbeat_store`` library; the protocol's names are
in ``heartbeat_contract``.
"""

from heartbeat_api.auth import execution_token

__all__ = ["execution_token"]
