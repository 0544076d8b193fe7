"""What the live view shows of an execution: one JSON-ready row, built from the store's
records. Pure functions; the browser only formats and colours what it gets."""

from __future__ import annotations

import re
from typing import Any

from heartbeat_store.records import Event, Execution

from heartbeat_api.ui.progress import Estimate, ProgressSummary, summarize

# A DAG id naming one of these words runs that task type (as docs/contracts/dags.md's do).
_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("crawler", "crawler"),
    ("crawl", "crawler"),
    ("api", "api"),
    ("database", "database"),
    ("db", "database"),
)
# Result counters worth a glance, in this order; other numbers follow.
_RESULT_KEYS = (
    "records",
    "records_written",
    "items",
    "pages_crawled",
    "pages",
    "rows_read",
    "rows_inserted",
    "rows_updated",
    "tables",
    "errors",
    "duration_seconds",
)
MAX_RESULT_FIELDS = 4
MAX_ERROR_CHARS = 300


def task_type_of(execution: Execution) -> str | None:
    """The task type: as reported in progress, else from the DAG id or the progress shape."""
    if execution.task_type:
        return execution.task_type[:32]
    progress = execution.progress
    reported = progress.get("task_type")
    if isinstance(reported, str) and reported:
        return reported[:32]
    words = re.split(r"[^a-z0-9]+", (execution.dag_id or "").lower())
    for word, task_type in _TYPE_WORDS:
        if word in words:
            return task_type
    if "max_pages" in progress or "pages_done" in progress:
        return "crawler"
    if "tables_total" in progress:
        return "database"
    if "records" in progress and "requests" in progress:
        return "api"
    return None


def result_summary(result_data: dict[str, Any] | None) -> list[tuple[str, float | int]]:
    """Up to four top-level numbers of a result, the well-known counters first."""
    if not result_data:
        return []
    numbers = {
        key: value
        for key, value in result_data.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    ordered = [key for key in _RESULT_KEYS if key in numbers]
    ordered += [key for key in numbers if key not in ordered]
    return [(key[:40], numbers[key]) for key in ordered[:MAX_RESULT_FIELDS]]


def short_error(message: str | None) -> str | None:
    """The first line of an error, cut for a table cell."""
    if not message:
        return None
    first = message.strip().splitlines()[0] if message.strip() else message
    return first if len(first) <= MAX_ERROR_CHARS else first[: MAX_ERROR_CHARS - 1] + "…"


def _summary_fields(summary: ProgressSummary, estimate: Estimate) -> dict[str, Any]:
    return {
        "stage": summary.stage,
        "fraction": summary.fraction,
        "done": summary.done,
        "total": summary.total,
        "unit": summary.unit,
        "rate": estimate.rate,
        "eta_seconds": estimate.eta_seconds,
    }


def execution_row(
    execution: Execution, summary: ProgressSummary, estimate: Estimate
) -> dict[str, Any]:
    """Everything the list and the detail view show of one execution."""
    progress_host = execution.progress.get("host")
    return {
        "execution_id": execution.execution_id,
        "status": execution.status,
        "final": execution.is_final,
        "task_type": task_type_of(execution),
        "dag_id": execution.dag_id,
        "task_id": execution.task_id,
        "run_id": execution.run_id,
        "container_name": execution.container_name,
        "host": execution.host
        or (progress_host if isinstance(progress_host, str) else None),
        "container_status": execution.container_status,
        "created_at": execution.created_at,
        "started_at": execution.started_at,
        "last_heartbeat_at": execution.last_heartbeat_at,
        "finished_at": execution.finished_at,
        "cancel_requested": execution.cancel_requested,
        "progress": execution.progress,
        "result": result_summary(execution.result_data),
        "error": short_error(execution.error_message),
        "exit_code": execution.exit_code,
        "transitions": execution.transitions,
        # A final execution has no rate or time left, only where it ended.
        **_summary_fields(summary, Estimate() if execution.is_final else estimate),
    }


def heartbeat_patch(event: Event, summary: ProgressSummary, estimate: Estimate) -> dict[str, Any]:
    """What one heartbeat changes in a row (merged by the browser into what it has).

    A heartbeat without progress leaves the progress as it was, but the rate still moves.
    """
    patch: dict[str, Any] = {
        "execution_id": event.execution_id,
        "last_heartbeat_at": event.at,
        "container_status": event.status,
        **_summary_fields(summary, estimate),
    }
    if event.progress is not None:
        patch["progress"] = event.progress
    return patch


def event_dict(event: Event) -> dict[str, Any]:
    """An event of the heartbeat log as the detail view lists and charts it."""
    entry: dict[str, Any] = {
        "type": event.type,
        "at": event.at,
        "status": event.status,
        "progress": event.progress,
        "detail": {k: v for k, v in event.detail.items() if k != "execution_id"},
    }
    if event.progress is not None:
        summary = summarize(event.progress)
        entry.update(fraction=summary.fraction, done=summary.done, unit=summary.unit)
    return entry
