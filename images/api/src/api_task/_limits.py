"""Pacing: the token bucket, backoff delays and Retry-After."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

WaitHook = Callable[[str, float], None]
_SPIN = 0.0015


class TokenBucket:
    """At most `burst` requests at once and `rate` per second on average, never more.

    Callers queue on a lock, so tokens go out in order; the clock is re-read after
    every sleep because a timer may fire a little early.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._not_before = 0.0
        self._lock = asyncio.Lock()

    def pause_until(self, moment: float) -> None:
        """Hold every request until `moment` (the server asked us to slow down)."""
        self._not_before = max(self._not_before, moment)

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, on_wait: WaitHook) -> float:
        """Take one token; returns the seconds spent waiting for it."""
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                delay = max(self._not_before - now, (1.0 - self._tokens) / self.rate)
                # The nanosecond tolerance stops float rounding from looping forever.
                if delay <= 1e-9:
                    self._tokens -= 1.0
                    return waited
                on_wait("rate_limited", delay)
                # Timers wake up to a millisecond late (epoll rounds up), and with a
                # small burst a late grant is lost rate: sleep short, then yield.
                await self._sleep(delay - _SPIN if delay > _SPIN else 0)
                waited += self._clock() - now


class Unlimited:
    """The bucket when no rate limit is configured; still honours a server's pause."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._not_before = 0.0

    def pause_until(self, moment: float) -> None:
        self._not_before = max(self._not_before, moment)

    async def acquire(self, on_wait: WaitHook) -> float:
        delay = self._not_before - self._clock()
        if delay <= 0:
            return 0.0
        on_wait("rate_limited", delay)
        await asyncio.sleep(delay)
        return delay


def backoff_delay(attempt: int, factor: float, cap: float) -> float:
    """Exponential backoff with equal jitter: half fixed, half random, so retries from
    many clients spread out but never shrink to nothing."""
    base = min(cap, factor * 2.0 ** (attempt - 1))
    return base / 2 + random.uniform(0, base / 2)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
