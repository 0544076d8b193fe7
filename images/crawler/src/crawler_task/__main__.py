"""`python -m crawler_task`: the crawler image's entry point (docs/contracts/environment.md).

Reads the config from CONFIG_PATH, crawls, and reports heartbeats, progress and
the completion through the heartbeat SDK's run_task. Exit 0 on success or cancel,
1 on failure, 2 on a bad environment or config."""

from __future__ import annotations

import sys
from typing import Any

from heartbeat_client import TaskContext, run_task
from task_config import TaskConfig, validate_config

from crawler_task._engine import Crawler


def _crawl(ctx: TaskContext[TaskConfig]) -> dict[str, Any]:
    crawler = Crawler(ctx.config, reporter=ctx.report, should_stop=ctx.should_stop)
    try:
        crawler.run()
    finally:  # after an error too: the pages crawled so far are the partial result
        ctx.client.set_result(crawler.result())
    return crawler.result()


def main() -> int:
    return run_task(
        _crawl, task_type="crawler", validate=validate_config, logger_name="crawler_task"
    )


if __name__ == "__main__":
    sys.exit(main())
