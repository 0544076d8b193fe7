"""Backoff delays and Retry-After parsing."""

from __future__ import annotations

import email.utils
import random

import pytest
from heartbeat_client._backoff import MAX_RETRY_AFTER_SECONDS, Backoff, parse_retry_after

NOW = 1_700_000_000.0


def test_delays_grow_exponentially_within_jitter_bounds() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(7))
    for failures in range(10):
        ceiling = min(30.0, 0.5 * 2**failures)
        delay = backoff.next_delay()
        assert ceiling / 2 <= delay <= ceiling


def test_delays_never_pass_the_cap_even_after_many_failures() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(200)]
    assert max(delays) <= 4.0
    assert min(delays[10:]) >= 2.0


def test_jitter_spreads_clients_that_failed_together() -> None:
    delays = {Backoff(rng=random.Random(seed)).next_delay() for seed in range(20)}
    assert len(delays) == 20


def test_reset_starts_over_from_the_base_delay() -> None:
    backoff = Backoff(base=1.0, cap=60.0, rng=random.Random(3))
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_retry_after_is_a_floor_and_is_capped() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(5))
    assert backoff.next_delay(retry_after=12.0) >= 12.0
    assert backoff.next_delay(retry_after=10_000.0) == MAX_RETRY_AFTER_SECONDS


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="base"):
        Backoff(base=0, cap=1)
    with pytest.raises(ValueError, match="cap"):
        Backoff(base=2, cap=1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        (email.utils.formatdate(NOW - 90, usegmt=True), 0.0),
        # RFC 850 and asctime forms are allowed by HTTP too.
        ("Tuesday, 14-Nov-23 22:14:50 GMT", 90.0),
        ("Tue Nov 14 22:14:50 2023", 90.0),
    ],
)
def test_retry_after_seconds_and_http_dates(header: str, expected: float) -> None:
    assert parse_retry_after(header, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5e3", "Mon, 99 Foo 2023"])
def test_unparseable_retry_after_is_ignored(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None
