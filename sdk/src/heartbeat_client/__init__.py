"""heartbeat-client: heartbeats, progress and completion for containerised tasks.

Standard library only, Python 3.9+. A task image's entry point is one call:

    import sys
    from heartbeat_client import TaskContext, run_task

    def handler(ctx: TaskContext[dict[str, Any]]) -> dict[str, Any]:
        ctx.report({"stage": "fetching"})       # progress, status running
        if ctx.should_stop():                   # SIGTERM or a cancel request
            ...
        return {"rows": 10}                     # result_data of the completion

    sys.exit(run_task(handler, task_type="custom"))

``run_task`` sets up logging (secrets redacted), the client, the config and the
exit code (0 completed or cancelled, 1 failed, 2 bad environment or config). The
client on its own, as the original guide uses it:

    from heartbeat_client import HeartbeatClient, load_config
    from heartbeat_contract import states

    with HeartbeatClient.from_env() as client:
        config = load_config()
        client.update_status(states.RUNNING, {"stage": "fetching"})
        if client.should_stop():
            ...
        client.set_result({"rows": 10})

Errors: ``HeartbeatError`` is the base of everything raised here;
``ConfigurationError`` (a missing environment variable, a bad argument or
an unreadable config file) is the only one raised, and only by the
constructors, ``from_env()`` and ``load_config()``. ``TaskFailure`` is for task
code to raise: an explained failure carrying a partial result.
"""

from __future__ import annotations

from heartbeat_contract import COMPLETION_FILENAME, PROTOCOL_VERSION

from ._client import HeartbeatClient
from ._config import load_config
from ._errors import ConfigurationError, HeartbeatError
from ._redaction import REDACTED, RedactingFilter, Redactor
from ._runtime import (
    EXIT_CONFIG_ERROR,
    EXIT_OK,
    EXIT_TASK_FAILED,
    Reporter,
    TaskContext,
    TaskFailure,
    run_task,
)

__all__ = [
    "COMPLETION_FILENAME",
    "EXIT_CONFIG_ERROR",
    "EXIT_OK",
    "EXIT_TASK_FAILED",
    "PROTOCOL_VERSION",
    "REDACTED",
    "ConfigurationError",
    "HeartbeatClient",
    "HeartbeatError",
    "RedactingFilter",
    "Redactor",
    "Reporter",
    "TaskContext",
    "TaskFailure",
    "load_config",
    "run_task",
]

__version__ = "0.1.0"
