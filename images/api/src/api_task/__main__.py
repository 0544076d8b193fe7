"""Container entry point: `python -m api_task`, run by the heartbeat SDK's run_task.

Exit 0 on success or cancel, 1 when the collection failed, 2 on a bad environment
or config."""

from __future__ import annotations

import sys
from typing import Any

from heartbeat_client import TaskContext, run_task
from task_config import TaskConfig, validate_config

from api_task.collector import collect


def _collect(ctx: TaskContext[TaskConfig]) -> dict[str, Any]:
    return collect(ctx.config, ctx.env, ctx.report, ctx.should_stop, redactor=ctx.redactor)


def main() -> int:
    return run_task(_collect, task_type="api", validate=validate_config, logger_name="api_task")


if __name__ == "__main__":
    sys.exit(main())
