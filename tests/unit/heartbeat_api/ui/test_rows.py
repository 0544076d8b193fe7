"""Rows of the live view built from stored executions and events."""

from __future__ import annotations

from heartbeat_api.ui.progress import Estimate, summarize
from heartbeat_api.ui.rows import (
    event_dict,
    execution_row,
    heartbeat_patch,
    result_summary,
    short_error,
    task_type_of,
)
from heartbeat_store.records import Event, Execution


def test_task_type_from_progress_dag_id_or_shape() -> None:
    assert task_type_of(Execution("a", "running", progress={"task_type": "custom"})) == "custom"
    assert task_type_of(Execution("a", "running", dag_id="crawler_collection")) == "crawler"
    assert task_type_of(Execution("a", "running", dag_id="api_collection")) == "api"
    assert task_type_of(Execution("a", "running", dag_id="database_sync")) == "database"
    assert task_type_of(Execution("a", "running", dag_id="rapid_import")) is None
    assert task_type_of(Execution("a", "running", progress={"tables_total": 3})) == "database"


def test_result_summary_puts_known_counters_first() -> None:
    result = {
        "status": "done",
        "duration_seconds": 3.5,
        "extra": 1,
        "records": 120,
        "ok": True,
        "pages_crawled": 12,
        "more": 7,
    }
    assert result_summary(result) == [
        ("records", 120),
        ("pages_crawled", 12),
        ("duration_seconds", 3.5),
        ("extra", 1),
    ]
    assert result_summary(None) == []


def test_short_error_keeps_the_first_line_within_bounds() -> None:
    assert short_error("ValueError: bad\nTraceback ...") == "ValueError: bad"
    long = short_error("x" * 1000)
    assert long is not None and len(long) == 300 and long.endswith("…")
    assert short_error(None) is None


def test_final_rows_have_no_rate_and_carry_the_outcome() -> None:
    execution = Execution(
        "e1",
        "failed",
        dag_id="api_collection",
        error_message="boom",
        progress={"records": 10},
        result_data={"records": 10},
    )
    row = execution_row(execution, summarize(execution.progress), Estimate(rate=3.0, eta_seconds=9))
    assert row["final"] is True and row["rate"] is None and row["eta_seconds"] is None
    assert row["error"] == "boom" and row["result"] == [("records", 10)]
    assert row["task_type"] == "api" and row["done"] == 10.0


def test_heartbeat_patch_and_event_carry_the_chart_point() -> None:
    event = Event(
        "1-0",
        "e1",
        "heartbeat",
        50.0,
        "running",
        {"current_step": 2, "total_steps": 4},
        {"timestamp": 49},
    )
    summary = summarize(event.progress)
    patch = heartbeat_patch(event, summary, Estimate(rate=0.5, eta_seconds=4.0))
    assert patch["last_heartbeat_at"] == 50.0 and patch["fraction"] == 0.5
    assert patch["eta_seconds"] == 4.0 and "status" not in patch
    entry = event_dict(event)
    assert entry["fraction"] == 0.5 and entry["unit"] == "steps"
    assert entry["detail"] == {"timestamp": 49}


def test_registered_host_and_task_type_win_over_guesses() -> None:
    execution = Execution(execution_id="e", status="running", dag_id="crawler_collection",
                          host="execution_host_2", task_type="api",
                          progress={"host": "from-progress", "pages_done": 3})
    assert task_type_of(execution) == "api"
    row = execution_row(execution, summarize(execution.progress), Estimate(None, None))
    assert row["host"] == "execution_host_2"
