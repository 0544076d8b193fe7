"""The web crawler task: `crawl(config, reporter, should_stop) -> result_data`.

Run in its image as `python -m crawler_task` (reads CONFIG_PATH, reports through
the heartbeat SDK). See images/crawler/README.md for the config keys.
"""

from heartbeat_client import Reporter

from crawler_task._engine import Crawler, StopCheck, crawl
from crawler_task._extract import Extractor, coerce
from crawler_task._fetch import FetchError, Page, Skipped
from crawler_task._urls import normalize_url

__all__ = [
    "Crawler",
    "Extractor",
    "FetchError",
    "Page",
    "Reporter",
    "Skipped",
    "StopCheck",
    "coerce",
    "crawl",
    "normalize_url",
]
