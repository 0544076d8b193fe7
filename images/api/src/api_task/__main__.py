"""Container entry point: `python -m api_task`, wired to the heartbeat SDK."""

from __future__ import annotations

import logging
import os
import sys

from heartbeat_client import HeartbeatClient, load_config
from task_config import ConfigError, validate_config

from api_task._secrets import Redactor
from api_task.collector import CollectionError, collect

log = logging.getLogger("api_task")


class _RedactingFilter(logging.Filter):
    """Last line of defence: no log record leaves the container with a known secret,
    whichever library wrote it."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self._redactor.active:
            record.msg = self._redactor.text(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self._redactor.text(
                    logging.Formatter().formatException(record.exc_info)
                )
                record.exc_info = None
        return True


def main() -> int:
    redactor = Redactor()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactingFilter(redactor))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    try:
        client = HeartbeatClient.from_env()
        with client:
            config = validate_config(load_config())
            try:
                result = collect(
                    config,
                    os.environ,
                    client.update_status,
                    client.should_stop,
                    redactor=redactor,
                )
            except CollectionError as exc:
                client.set_result(exc.result)
                raise
            client.set_result(result)
    except (CollectionError, ConfigError) as exc:
        # Already reported to the heartbeat API; one clear line in the container log.
        log.error("%s: %s", type(exc).__name__, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
