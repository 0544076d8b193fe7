"""Jittered exponential backoff and ``Retry-After`` parsing (pure logic)."""

from __future__ import annotations

import email.utils
import random

__all__ = ["Backoff", "parse_retry_after"]

# A server may ask for any delay; we never sleep longer than this on its say-so,
# so a typo on the server side cannot silence a task for hours.
MAX_RETRY_AFTER_SECONDS = 300.0


class Backoff:
    """Delays for consecutive failed attempts: ``base * 2**n`` capped, with jitter.

    "Equal jitter": half the exponential delay is fixed, half random, so
    clients that failed together spread out but never retry immediately.
    """

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={base} cap={cap}")
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng if rng is not None else random.Random()

    def next_delay(self, retry_after: float | None = None) -> float:
        """Delay before the next attempt after one more failure.

        A server's ``Retry-After`` is a floor: we wait at least that long
        (up to ``MAX_RETRY_AFTER_SECONDS``), more if our own backoff says so.
        """
        exponent = min(self.failures, 32)  # 2**32 * base is far past any cap
        self.failures += 1
        ceiling = min(self.cap, self.base * (2.0**exponent))
        delay = ceiling / 2.0 + self._rng.uniform(0.0, ceiling / 2.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return delay

    def reset(self) -> None:
        """Forget past failures after a success."""
        self.failures = 0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or None.

    The header holds either delta-seconds (``"120"``) or an HTTP date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``); ``now`` is the Unix time to
    measure a date against. A date in the past means "retry now" (0.0).
    Anything unparseable is ignored (None): a bad header must not break
    the retry loop.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    parsed = email.utils.parsedate_tz(text)
    if parsed is None:
        return None
    if parsed[9] is None:
        # HTTP dates are always GMT; don't let mktime_tz read it as local time.
        parsed = parsed[:9] + (0,)
    try:
        when = float(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None
    return max(0.0, when - now)
