"""The contenders of the API benchmark; each follows the same pages to the end and
returns (records, seconds)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import requests

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
from api_task import collect
from api_task._limits import TokenBucket, WaitHook
from dlt.sources.rest_api import rest_api_source  # noqa: E402


def bare_requests(start_url: str) -> tuple[int, float]:
    """The practical ceiling: a requests.Session loop that only fetches and parses."""
    started = time.perf_counter()
    records = 0
    url: str | None = start_url
    with requests.Session() as session:
        while url:
            body = session.get(url, timeout=30).json()
            records += len(body["data"])
            url = body["next"]
    return records, time.perf_counter() - started


def dlt_rest_api(base_url: str, first_path: str) -> tuple[int, float]:
    """dlt's REST API source, iterated (extraction only, no pipeline)."""
    started = time.perf_counter()
    source = rest_api_source(
        {
            "client": {"base_url": base_url},
            "resources": [
                {
                    "name": "items",
                    "endpoint": {
                        "path": first_path,
                        "data_selector": "data",
                        "paginator": {"type": "json_link", "next_url_path": "next"},
                    },
                }
            ],
        }
    )
    records = sum(1 for _ in source.resources["items"])
    return records, time.perf_counter() - started


class CountingReporter:
    def __init__(self) -> None:
        self.calls = 0
        self.stages: set[str] = set()

    def __call__(self, status: str, progress: dict[str, Any]) -> None:
        self.calls += 1
        self.stages.add(str(progress.get("stage")))


def ours(base_url: str, out_dir: Path, **api_config: Any) -> tuple[dict[str, Any], float, int]:
    """Our collector, output written (jsonl) and progress reported; returns the
    result_data, the wall seconds and the number of progress reports."""
    config = {
        "task_name": "bench",
        "task_type": "api",
        "docker_image": "data-collection-api:latest",
        "storage_config": {"output_path": str(out_dir), "filename_prefix": "bench"},
        "api_config": {"base_url": base_url, "records_path": "$.data", **api_config},
    }
    reporter = CountingReporter()
    started = time.perf_counter()
    result = collect(config, {}, reporter, lambda: False)
    return result, time.perf_counter() - started, reporter.calls


class GrantClock:
    """Records when the token bucket lets each request go (bench instrumentation)."""

    def __init__(self) -> None:
        self.grants: list[float] = []
        self._original = TokenBucket.acquire

    def __enter__(self) -> GrantClock:
        original, grants = self._original, self.grants

        async def acquire(bucket: TokenBucket, on_wait: WaitHook) -> float:
            waited = await original(bucket, on_wait)
            grants.append(bucket._stamp)  # the clock reading the token was granted on
            return waited

        TokenBucket.acquire = acquire  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        TokenBucket.acquire = self._original  # type: ignore[method-assign]
