"""`python -m crawler_task`: the crawler image's entry point (docs/contracts/environment.md).

Reads the config from CONFIG_PATH, crawls, and reports heartbeats, progress and
the completion through the heartbeat SDK. Exit 0 on success or cancel, 1 on
failure, 2 on a config error."""

from __future__ import annotations

import logging
import os
import sys

from heartbeat_client import HeartbeatClient, HeartbeatError, load_config
from task_config import ConfigError, validate_config

from crawler_task._engine import Crawler

log = logging.getLogger("crawler_task")


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        client = HeartbeatClient.from_env()
    except HeartbeatError as exc:
        log.error("cannot start: %s", exc)
        return 2
    try:
        with client:
            config = validate_config(load_config())
            if config.task_type != "crawler":
                raise ConfigError(
                    [("task_type", f"is {config.task_type!r}; this image runs 'crawler' tasks")]
                )
            client.update_status("running", {"stage": "starting"})
            crawler = Crawler(
                config,
                reporter=lambda progress: client.update_status("running", progress),
                should_stop=client.should_stop,
            )
            try:
                crawler.run()
            finally:
                client.set_result(crawler.result())
    except (ConfigError, HeartbeatError) as exc:  # a bad or unreadable config file
        log.error("invalid config: %s", exc)
        return 2
    except Exception as exc:
        log.error("crawl failed: %s: %s", type(exc).__name__, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
