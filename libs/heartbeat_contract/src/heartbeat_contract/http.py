"""The heartbeat API's paths (docs/contracts/http-api.md).

Templates use FastAPI's ``{execution_id}`` placeholder; :func:`path` fills one in.
"""

from __future__ import annotations

from urllib.parse import quote

API_PREFIX = "/api/v1"
MONITORING_PREFIX = f"{API_PREFIX}/monitoring"

EXECUTIONS = f"{MONITORING_PREFIX}/executions"
EXECUTION_CANCEL = f"{EXECUTIONS}/{{execution_id}}/cancel"
HEARTBEAT = f"{MONITORING_PREFIX}/heartbeat"
HEARTBEAT_HISTORY = f"{HEARTBEAT}/{{execution_id}}"
COMPLETION = f"{MONITORING_PREFIX}/completion"
EXECUTION_STATUS = f"{API_PREFIX}/task/execution/{{execution_id}}/status"
HEALTH = "/healthz"
METRICS = "/metrics"
UI = "/ui"

AUTHORIZATION_HEADER = "Authorization"
BEARER = "Bearer"


def path(template: str, execution_id: str) -> str:
    """A path template with the execution id filled in (percent-encoded)."""
    return template.replace("{execution_id}", quote(execution_id, safe=""))


def relative(full: str, prefix: str) -> str:
    """``full`` below ``prefix``: what a router mounted at ``prefix`` declares."""
    if not full.startswith(prefix):
        raise ValueError(f"{full!r} is not below {prefix!r}")
    return full[len(prefix):]
