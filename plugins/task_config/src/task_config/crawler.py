"""`crawler_config` of the task config (DESIGN.md, Contract 2)."""

from __future__ import annotations

from task_config._base import StrictModel


class CrawlerConfig(StrictModel):
    """Placeholder until the crawler image lands."""
