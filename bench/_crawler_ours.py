"""Benchmark child: our crawler on the site. argv: start_url max_pages concurrency out_dir.
Prints one JSON line: pages, records, seconds."""

from __future__ import annotations

import json
import sys
import time

from _crawler_site import FIELDS
from crawler_task import crawl
from task_config import validate_config


def main() -> None:
    start_url, max_pages, concurrency, out_dir = sys.argv[1:5]
    config = validate_config(
        {
            "task_name": "bench",
            "task_type": "crawler",
            "docker_image": "data-collection-crawler:latest",
            "crawler_config": {
                "target_urls": [start_url],
                "max_pages": int(max_pages),
                "delay": 0,
                "concurrency": int(concurrency),
                "output_format": "jsonl",
                "data_fields": FIELDS,
                "follow_links": {"css": "a"},
                "max_depth": 1000,
            },
            "storage_config": {"output_path": out_dir, "filename_prefix": "ours"},
        }
    )
    started = time.perf_counter()
    result = crawl(config)
    seconds = time.perf_counter() - started
    print(json.dumps({"pages": result["pages_crawled"], "records": result["records"],
                      "errors": result["errors"], "seconds": seconds}))  # fmt: skip


if __name__ == "__main__":
    main()
