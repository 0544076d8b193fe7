"""Incremental runs: the state goes out as a parameter, only newer records come back,
and only a completed run moves the state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from api_mock_server import MockApi
from api_task import CollectionError, collect_async
from api_task_helpers import Progress, config, read_output

pytestmark = pytest.mark.integration


def never() -> bool:
    return False


def incremental(mock_api: MockApi, out_dir: Path, state: Any = None) -> dict[str, Any]:
    inc: dict[str, Any] = {"cursor_field": "updated_at", "param": "since"}
    if state is not None:
        inc["state"] = state
    return config(mock_api, out_dir, pagination="page", incremental=inc)


async def test_second_run_fetches_only_newer_records(
    mock_api: MockApi, tmp_path: Path, progress: Progress
) -> None:
    first = await collect_async(incremental(mock_api, tmp_path / "1"), {}, progress, never)
    assert first["records"] == 250 and first["state"] == 250
    assert "since" not in mock_api.seen[0].query

    mock_api.records += [{"id": i, "updated_at": i} for i in range(251, 261)]
    mock_api.seen.clear()
    second = await collect_async(
        incremental(mock_api, tmp_path / "2", first["state"]), {}, progress, never
    )

    assert [r["id"] for r in read_output(tmp_path / "2", second)] == list(range(251, 261))
    assert second["state"] == 260
    assert mock_api.seen[0].query == {"since": "250", "page": "1"}


async def test_records_not_newer_than_the_state_are_dropped_when_the_server_ignores_it(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.honour_since = False
    result = await collect_async(incremental(mock_api, out_dir, 200), {}, progress, never)

    assert [r["id"] for r in read_output(out_dir, result)] == list(range(201, 251))
    assert result["records_skipped"] == 200
    assert result["state"] == 250


async def test_nothing_new_keeps_the_incoming_state(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    result = await collect_async(incremental(mock_api, out_dir, 250), {}, progress, never)
    assert result["records"] == 0
    assert result["state"] == 250


async def test_a_failed_run_reports_the_incoming_state_not_what_it_saw(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.records += [{"id": i, "updated_at": i} for i in range(251, 451)]
    mock_api.fault(2, 404)  # page 1 (251-350) arrives, then the run fails
    with pytest.raises(CollectionError) as caught:
        await collect_async(incremental(mock_api, out_dir, 250), {}, progress, never)

    assert caught.value.result["records"] == 100
    assert caught.value.result["state"] == 250


async def test_a_cancelled_run_does_not_advance_the_state(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    cfg = incremental(mock_api, out_dir, 0)
    cfg["api_config"]["rate_limit"] = {"requests_per_second": 20}

    def after_first_page() -> bool:
        return len(mock_api.seen) >= 2

    result = await collect_async(cfg, {}, progress, after_first_page)
    assert result["stopped_because"] == "cancelled"
    assert result["records"] >= 100
    assert result["state"] == 0
