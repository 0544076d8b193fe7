"""Prometheus metrics. With several workers, PROMETHEUS_MULTIPROC_DIR makes them shared."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

HEARTBEATS = Counter("heartbeat_api_heartbeats_total", "Heartbeats accepted.")
COMPLETIONS = Counter(
    "heartbeat_api_completions_total", "Completions accepted, by final status.", ["status"]
)
REJECTS = Counter(
    "heartbeat_api_rejects_total",
    "Requests refused, by reason (unauthorized, forbidden, unknown_execution, "
    "final_state, exists, too_large, invalid, redis_unavailable).",
    ["reason"],
)
REQUEST_SECONDS = Histogram(
    "heartbeat_api_request_duration_seconds",
    "Time from request start to the last byte of the answer.",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def reject(reason: str) -> None:
    REJECTS.labels(reason).inc()


def render_metrics() -> tuple[bytes, str]:
    """The exposition text, merged over all workers when running multi-process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
