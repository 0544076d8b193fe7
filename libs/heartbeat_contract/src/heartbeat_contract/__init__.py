"""heartbeat-contract: every name the heartbeat protocol's parts agree on.

Standard library only, Python 3.9+, so the SDK inside any image, the heartbeat API,
the Redis store and the Airflow provider all import the same spelling. The prose
version of each contract is in ``docs/contracts/`` of the repository.

- :mod:`heartbeat_contract.states`: execution states and which are final
- :mod:`heartbeat_contract.http`: the heartbeat API's paths
- :mod:`heartbeat_contract.environment`: the container's environment and mounts
- :mod:`heartbeat_contract.completion`: the completion body and ``_completion.json``
- :mod:`heartbeat_contract.events`: the shape of an event on the Redis streams
"""

from __future__ import annotations

from heartbeat_contract import completion, environment, events, http, states
from heartbeat_contract.completion import COMPLETION_FILENAME, Completion, CompletionError
from heartbeat_contract.states import FINAL_STATES, REPORTED_STATES
from heartbeat_contract.version import PROTOCOL_VERSION

__all__ = [
    "COMPLETION_FILENAME",
    "FINAL_STATES",
    "PROTOCOL_VERSION",
    "REPORTED_STATES",
    "Completion",
    "CompletionError",
    "completion",
    "environment",
    "events",
    "http",
    "states",
]
