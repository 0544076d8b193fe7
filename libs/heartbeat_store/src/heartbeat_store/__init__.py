"""heartbeat-store: the heartbeat protocol's Redis schema as a small library.

Keys (``prefix`` defaults to ``hb``), owned by :mod:`heartbeat_store._keys`:

- ``{prefix}:exec:{id}``              hash, the execution's current state
- ``{prefix}:exec:{id}:transitions``  list of JSON ``{"status","at","reason"}``, oldest first
- ``{prefix}:exec:{id}:events``       stream, the capped heartbeat log of one execution
- ``{prefix}:events``                 stream, every event of every execution (capped)
- ``{prefix}:executions``             sorted set, execution id scored by last update time
- ``{prefix}:start_deadlines``        sorted set, a pending execution scored by when its
  first heartbeat is due (registered with a start timeout)

Each state change is one Lua script, so it is atomic: a heartbeat racing a completion
never overwrites a final state, and a rejected write changes nothing. The heartbeat
API and the Airflow provider both use it; neither spells a key.

Retention: the three per-execution keys of a final execution expire ``retention_seconds``
after it became final; while pending or running their TTL is set to twice that on every
write, so an execution that beats never expires.

The client may use ``decode_responses`` True or False. A client used for
:meth:`ExecutionStore.read_events` needs a ``socket_timeout`` above ``block_ms`` (or None).
"""

from __future__ import annotations

from heartbeat_store._store import ExecutionStore, canonical_json
from heartbeat_store.errors import (
    ExecutionExists,
    FinalStateConflict,
    StoreError,
    UnknownExecution,
)
from heartbeat_store.records import Event, Execution

__all__ = [
    "Event",
    "Execution",
    "ExecutionExists",
    "ExecutionStore",
    "FinalStateConflict",
    "StoreError",
    "UnknownExecution",
    "canonical_json",
]
