"""``python -m database_task``: the task image's entry point (docs/contracts/environment.md).

Reads the config, runs the sync with progress through the heartbeat SDK's run_task,
and sends the per-table result as the completion's result_data (also written to
``{output_path}/{filename_prefix}_sync_result.json``). SIGTERM or a cancel request
stops after the current batch; the completion then says ``cancelled``. Exit 0 on
success or cancel, 1 when the sync failed, 2 on a bad environment or config.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from heartbeat_client import ConfigurationError, TaskContext, run_task
from task_config import TaskConfig, validate_config

from database_task._sync import sync

log = logging.getLogger("database_task")


def _write_result_file(output_path: str, prefix: str, result: dict[str, Any]) -> None:
    path = Path(output_path) / f"{prefix}_sync_result.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc.strerror)


def _sync(ctx: TaskContext[TaskConfig]) -> dict[str, Any]:
    database = ctx.config.database_config
    if database is None:  # validate_config requires it for task_type database
        raise ConfigurationError("database_config: missing; this image runs database tasks")
    result = sync(database, ctx.env, ctx.report, ctx.should_stop, redactor=ctx.redactor)
    for name, table in result["tables"].items():
        log.info(
            "%s: %s, %d rows read, %d inserted, %d updated in %.1f s via %s",
            name, table["status"], table["rows_read"], table["rows_inserted"],
            table["rows_updated"], table["seconds"], table["path"],
        )  # fmt: skip
    storage = ctx.config.storage_config
    _write_result_file(storage.output_path, storage.filename_prefix, result)
    return result


def main() -> int:
    return run_task(
        _sync, task_type="database", validate=validate_config, logger_name="database_task"
    )


if __name__ == "__main__":
    sys.exit(main())
