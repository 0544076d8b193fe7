"""The shape of an event on the Redis streams (docs/contracts/states.md).

Each stream entry is a flat map of strings. The core fields are always there; the
rest is the event's detail (a state change's ``from``, ``to``, ``reason`` and, when
known, ``error`` and ``exit_code``; a heartbeat's ``timestamp``).
"""

from __future__ import annotations

from typing import Literal

HEARTBEAT = "heartbeat"
STATE = "state"
CANCEL = "cancel"
EventType = Literal["heartbeat", "state", "cancel"]
EVENT_TYPES: tuple[str, ...] = (HEARTBEAT, STATE, CANCEL)

# Core fields of every entry.
TYPE = "type"
EXECUTION_ID = "execution_id"
AT = "at"
STATUS = "status"
PROGRESS = "progress"
CORE_FIELDS: frozenset[str] = frozenset({TYPE, EXECUTION_ID, AT, STATUS, PROGRESS})

# Detail fields a state change may carry.
FROM = "from"
TO = "to"
REASON = "reason"
ERROR = "error"
EXIT_CODE = "exit_code"
TIMESTAMP = "timestamp"
# Detail fields that hold integers on the stream.
INTEGER_FIELDS: frozenset[str] = frozenset({EXIT_CODE, TIMESTAMP})
