"""Progress reading, rate and time-left estimates of the live view."""

from __future__ import annotations

import pytest
from heartbeat_api.ui.progress import ProgressSummary, RateTracker, summarize


def test_steps_give_fraction_counter_and_unit() -> None:
    summary = summarize({"stage": "working", "current_step": 3, "total_steps": 12})
    assert summary == ProgressSummary("working", 0.25, 3.0, 12.0, "steps")


def test_crawler_pages_and_its_own_percentage() -> None:
    summary = summarize(
        {"stage": "crawling", "pages_done": 40, "max_pages": 200, "percentage": 20.5}
    )
    assert summary.fraction == pytest.approx(0.205)  # the task's percentage wins
    assert (summary.done, summary.total, summary.unit) == (40.0, 200.0, "pages")


def test_database_rows_over_table_estimates() -> None:
    progress = {
        "stage": "syncing",
        "tables_done": 1,
        "tables_total": 2,
        "rows_done": 300,
        "tables": {"a": {"rows_estimated": 200}, "b": {"rows_estimated": 800}},
    }
    summary = summarize(progress)
    assert summary.fraction == pytest.approx(0.3)
    assert (summary.done, summary.unit) == (300.0, "rows")


def test_database_without_estimates_counts_tables_but_rates_rows() -> None:
    progress = {
        "tables_done": 1,
        "tables_total": 4,
        "rows_done": 900,
        "tables": {"a": {"rows_estimated": None}},
    }
    summary = summarize(progress)
    assert summary.fraction == pytest.approx(0.25)
    assert (summary.done, summary.total, summary.unit) == (900.0, None, "rows")


def test_api_records_have_a_counter_but_no_fraction() -> None:
    summary = summarize({"stage": "fetching", "pages": 4, "records": 400, "requests": 5})
    assert summary.fraction is None
    assert (summary.done, summary.unit) == (400.0, "records")


@pytest.mark.parametrize(
    "progress",
    [
        None,
        {},
        {"stage": ""},
        {"percentage": "lots"},
        {"current_step": True, "total_steps": 4},
        {"current_step": 1, "total_steps": 0},
    ],
)
def test_nothing_numeric_means_unknown(progress: dict[str, object] | None) -> None:
    summary = summarize(progress)
    assert summary.fraction is None and summary.done is None


def test_fraction_is_clamped() -> None:
    assert summarize({"current_step": 15, "total_steps": 10}).fraction == 1.0
    assert summarize({"percentage": -3}).fraction == 0.0


def _pages(done: int, total: int = 100) -> ProgressSummary:
    return summarize({"pages_done": done, "max_pages": total})


def test_rate_and_time_left_over_the_window() -> None:
    tracker = RateTracker(window=60)
    for second, done in [(0, 10), (10, 30), (20, 50)]:
        tracker.add(1000.0 + second, _pages(done))
    estimate = tracker.estimate(_pages(50))
    assert estimate.rate == pytest.approx(2.0)  # 40 pages in 20 s
    assert estimate.eta_seconds == pytest.approx(25.0)  # 50 left at 2 pages/s


def test_old_samples_leave_the_window() -> None:
    tracker = RateTracker(window=30)
    tracker.add(0.0, _pages(0, 1000))
    tracker.add(100.0, _pages(10, 1000))  # slow start, long ago
    tracker.add(110.0, _pages(60, 1000))
    tracker.add(120.0, _pages(110, 1000))
    assert tracker.estimate(_pages(110, 1000)).rate == pytest.approx(5.0)


def test_going_backwards_starts_afresh() -> None:
    """A retry that restarts its counter must not give a negative or mixed rate."""
    tracker = RateTracker()
    tracker.add(0.0, _pages(80))
    tracker.add(10.0, _pages(90))
    tracker.add(20.0, _pages(5))
    assert len(tracker) == 1
    assert tracker.estimate(_pages(5)).rate is None
    tracker.add(25.0, _pages(15))
    assert tracker.estimate(_pages(15)).rate == pytest.approx(2.0)


def test_one_sample_falls_back_to_the_average_since_start() -> None:
    tracker = RateTracker()
    tracker.add(1060.0, _pages(30))
    estimate = tracker.estimate(_pages(30), started_at=1000.0)
    assert estimate.rate == pytest.approx(0.5)
    assert estimate.eta_seconds == pytest.approx(140.0)
    assert RateTracker().estimate(_pages(30), started_at=1000.0).rate is None
    just_started = RateTracker()
    just_started.add(1000.5, _pages(30))  # first beat already counts 30: no burst rate
    assert just_started.estimate(_pages(30), started_at=1000.0).rate is None


def test_stalled_progress_has_zero_rate_and_no_time_left() -> None:
    tracker = RateTracker()
    tracker.add(0.0, _pages(40))
    tracker.add(30.0, _pages(40))
    estimate = tracker.estimate(_pages(40))
    assert estimate.rate == 0.0
    assert estimate.eta_seconds is None


def test_done_means_nothing_left() -> None:
    tracker = RateTracker()
    tracker.add(0.0, _pages(90))
    tracker.add(5.0, _pages(100))
    assert tracker.estimate(_pages(100)).eta_seconds == 0.0


def test_a_replayed_older_sample_is_ignored() -> None:
    tracker = RateTracker()
    tracker.add(10.0, _pages(20))
    tracker.add(5.0, _pages(10))
    assert len(tracker) == 1
