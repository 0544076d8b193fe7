"""``python -m database_task``: the task image's entry point (docs/contracts/environment.md).

Reads the config, runs the sync with progress through the heartbeat SDK, and sends
the per-table result as the completion's result_data. SIGTERM or a cancel request
stops after the current batch; the completion then says ``cancelled``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from heartbeat_client import HeartbeatClient, load_config
from task_config import ConfigError, validate_config

from database_task._errors import SyncError
from database_task._sync import sync

log = logging.getLogger("database_task")


def _write_result_file(output_path: str, prefix: str, result: dict[str, Any]) -> None:
    path = Path(output_path) / f"{prefix}_sync_result.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    except OSError as exc:
        log.warning("could not write %s: %s", path, exc.strerror)


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        with HeartbeatClient.from_env() as client:
            config = validate_config(load_config())
            if config.database_config is None:
                raise SyncError("database_config: missing; this image runs database tasks only")
            client.update_status("running", {"stage": "starting"})

            def report(progress: dict[str, Any]) -> None:
                client.update_status("running", progress)

            try:
                result = sync(config.database_config, os.environ, report, client.should_stop)
            except SyncError as exc:
                if exc.partial is not None:
                    client.set_result(exc.partial)
                raise
            for name, table in result["tables"].items():
                log.info(
                    "%s: %s, %d rows read, %d inserted, %d updated in %.1f s via %s",
                    name, table["status"], table["rows_read"], table["rows_inserted"],
                    table["rows_updated"], table["seconds"], table["path"],
                )  # fmt: skip
            client.set_result(result)
            storage = config.storage_config
            _write_result_file(storage.output_path, storage.filename_prefix, result)
    except (SyncError, ConfigError) as exc:
        # The SDK has sent the failure with this message; no traceback needed.
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
