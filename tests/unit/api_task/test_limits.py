"""Token bucket, backoff and Retry-After, on a virtual clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from api_task._limits import TokenBucket, backoff_delay, parse_retry_after


class VirtualClock:
    """A clock whose sleeps wake slightly early, as real timers may."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(1e-6, seconds - min(0.001, seconds / 2))
        await asyncio.sleep(0)


def no_hook(kind: str, seconds: float) -> None:
    return None


@pytest.mark.parametrize(("rate", "burst"), [(50.0, 1), (5.0, 3), (0.5, 2)])
async def test_bucket_never_grants_more_than_burst_plus_rate_times_window(
    rate: float, burst: int
) -> None:
    clock = VirtualClock()
    bucket = TokenBucket(rate, burst, clock=clock, sleep=clock.sleep)
    grants: list[float] = []

    async def taker() -> None:
        for _ in range(15):
            await bucket.acquire(no_hook)
            grants.append(clock.now)

    await asyncio.gather(taker(), taker(), taker())

    assert len(grants) == 45
    for i, start in enumerate(grants):
        for j in range(i, len(grants)):
            assert j - i + 1 <= burst + rate * (grants[j] - start) + 1e-6
    # and it does not hold back either: the whole run takes about (n - burst) / rate
    assert grants[-1] - grants[0] == pytest.approx((45 - burst) / rate, rel=0.05)


async def test_bucket_reports_its_waits_and_honours_a_pause() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(10.0, 1, clock=clock, sleep=clock.sleep)
    waits: list[tuple[str, float]] = []
    assert await bucket.acquire(lambda kind, s: waits.append((kind, s))) == 0.0
    bucket.pause_until(clock.now + 5)
    waited = await bucket.acquire(lambda kind, s: waits.append((kind, s)))

    assert waited == pytest.approx(5, abs=1e-6)
    assert waits[0] == ("rate_limited", pytest.approx(5))


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (10, 30.0)]:
        delays = [backoff_delay(attempt, 0.5, 30.0) for _ in range(200)]
        assert all(base / 2 <= d <= base for d in delays)
        assert len(set(delays)) > 1


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == seconds
