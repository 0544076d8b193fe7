"""The protocol version every heartbeat, completion and completion file carries."""

from __future__ import annotations

PROTOCOL_VERSION = 1
# What the API accepts in a body's ``protocol_version`` (a newer SDK may send more).
MAX_PROTOCOL_VERSION = 1000
