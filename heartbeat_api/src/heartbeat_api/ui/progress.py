"""What a progress object says, and how fast it moves: pure logic, no I/O.

Tasks report progress in their own words (``percentage``, ``current_step`` of
``total_steps``, ``pages_done`` of ``max_pages``, ``rows_done`` with per-table estimates,
``records``...). :func:`summarize` reads a fraction done and a counter out of any of them;
:class:`RateTracker` turns successive summaries into a rate and an estimate of the time
left.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

# (done key, total key, unit), most specific first.
_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("current_step", "total_steps", "steps"),
    ("pages_done", "max_pages", "pages"),
    ("rows_done", "rows_total", "rows"),
    ("records_done", "records_total", "records"),
    ("items_done", "items_total", "items"),
    ("done", "total", "items"),
    ("tables_done", "tables_total", "tables"),
)
# Counters without a total: enough for a rate, not for a fraction.
_COUNTERS: tuple[tuple[str, str], ...] = (
    ("rows_done", "rows"),
    ("records", "records"),
    ("items", "items"),
    ("pages_done", "pages"),
    ("pages", "pages"),
    ("requests", "requests"),
)
# Rates are measured over this many seconds of samples.
RATE_WINDOW_SECONDS = 60.0
# The average since the start needs this much time, or one early count looks like a burst.
MIN_AVERAGE_SECONDS = 5.0
_MAX_SAMPLES = 120


@dataclass(frozen=True, slots=True)
class ProgressSummary:
    """The progress as one fraction (0..1) and one counter; any part may be unknown."""

    stage: str | None = None
    fraction: float | None = None
    done: float | None = None
    total: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    """Units per second of the counter and seconds left; None when unknown."""

    rate: float | None = None
    eta_seconds: float | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _clamp(fraction: float) -> float:
    return min(1.0, max(0.0, fraction))


def _rows_fraction(progress: dict[str, Any]) -> tuple[float, float] | None:
    """rows_done over the sum of per-table estimates, when every table has one."""
    tables = progress.get("tables")
    done = _number(progress.get("rows_done"))
    if not isinstance(tables, dict) or not tables or done is None:
        return None
    estimates = [
        _number(t.get("rows_estimated")) if isinstance(t, dict) else None for t in tables.values()
    ]
    if any(e is None for e in estimates):
        return None
    total = sum(e for e in estimates if e is not None)
    return (done, total) if total > 0 else None


def summarize(progress: dict[str, Any] | None) -> ProgressSummary:
    """Stage, fraction done, counter and total read from a task's progress object."""
    if not progress:
        return ProgressSummary()
    stage = progress.get("stage")
    stage_text = str(stage)[:80] if stage not in (None, "") else None
    fraction: float | None = None
    done: float | None = None
    total: float | None = None
    unit: str | None = None
    rows = _rows_fraction(progress)
    if rows is not None:
        done, total = rows
        unit = "rows"
    else:
        for done_key, total_key, pair_unit in _PAIRS:
            pair_done = _number(progress.get(done_key))
            pair_total = _number(progress.get(total_key))
            if pair_done is not None and pair_total is not None and pair_total > 0:
                done, total, unit = pair_done, pair_total, pair_unit
                break
    if done is not None and total is not None:
        fraction = _clamp(done / total)
    percentage = _number(progress.get("percentage"))
    if percentage is not None:
        fraction = _clamp(percentage / 100)  # the task knows its own percentage best
    if unit in (None, "tables"):
        # A finer counter gives a more useful rate than tables or steps.
        for key, counter_unit in _COUNTERS:
            counter = _number(progress.get(key))
            if counter is not None:
                done, total, unit = counter, None, counter_unit
                break
    return ProgressSummary(stage=stage_text, fraction=fraction, done=done, total=total, unit=unit)


@dataclass(frozen=True, slots=True)
class _Sample:
    at: float
    done: float | None
    fraction: float | None


class RateTracker:
    """Recent samples of one execution's progress, giving its rate and time left.

    Rate is the counter's change over the last ``window`` seconds; the estimate is the
    fraction still to do divided by how fast the fraction grew over the same window.
    With a single sample it falls back to the average since ``started_at``. A counter or
    fraction that goes backwards (a retry, a new phase) starts the window afresh.
    """

    def __init__(self, window: float = RATE_WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: deque[_Sample] = deque(maxlen=_MAX_SAMPLES)
        self.last_seen = 0.0

    def add(self, at: float, summary: ProgressSummary) -> None:
        self.last_seen = max(self.last_seen, at)
        if self._samples:
            last = self._samples[-1]
            if at < last.at:
                return  # out of order: the stream is ordered, so this is a replay
            went_back = (
                summary.done is not None and last.done is not None and summary.done < last.done
            ) or (
                summary.fraction is not None
                and last.fraction is not None
                and summary.fraction < last.fraction - 1e-9
            )
            if went_back:
                self._samples.clear()
        if summary.done is None and summary.fraction is None:
            return
        self._samples.append(_Sample(at, summary.done, summary.fraction))
        while len(self._samples) > 2 and at - self._samples[0].at > self.window:
            self._samples.popleft()

    def estimate(self, summary: ProgressSummary, started_at: float | None = None) -> Estimate:
        """Rate and time left for ``summary`` (normally the latest one added)."""
        first, last = self._span(started_at)
        if first is None or last is None or last.at - first.at <= 0:
            return Estimate()
        elapsed = last.at - first.at
        rate = None
        if last.done is not None and first.done is not None:
            rate = max(0.0, (last.done - first.done) / elapsed)
        eta = None
        if summary.fraction is not None and summary.fraction >= 1.0:
            eta = 0.0
        elif (
            summary.fraction is not None
            and last.fraction is not None
            and first.fraction is not None
        ):
            fraction_rate = (last.fraction - first.fraction) / elapsed
            if fraction_rate > 0:
                eta = (1.0 - summary.fraction) / fraction_rate
        return Estimate(rate=rate, eta_seconds=eta)

    def _span(self, started_at: float | None) -> tuple[_Sample | None, _Sample | None]:
        if len(self._samples) >= 2:
            return self._samples[0], self._samples[-1]
        if (
            len(self._samples) == 1
            and started_at is not None
            and self._samples[0].at - started_at >= MIN_AVERAGE_SECONDS
        ):
            # One sample: average since the start, as if it began from nothing.
            last = self._samples[0]
            origin = _Sample(
                started_at,
                0.0 if last.done is not None else None,
                0.0 if last.fraction is not None else None,
            )
            return origin, last
        return None, None

    def __len__(self) -> int:
        return len(self._samples)
