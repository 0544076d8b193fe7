"""URL normalisation and dedupe keys; Retry-After and backoff."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from crawler_task import normalize_url
from crawler_task._fetch import MAX_RETRY_AFTER, backoff_seconds, retry_after_seconds
from crawler_task._urls import LinkResolver, dedupe_key, host_of, origin_of


@pytest.mark.parametrize(
    ("raw", "base", "expected"),
    [
        ("HTTP://Shop.Example.COM", None, "http://shop.example.com/"),
        ("https://shop.example:443/a", None, "https://shop.example/a"),
        ("http://shop.example:8080/a#frag", None, "http://shop.example:8080/a"),
        ("../b/./c", "http://s.example/x/y/z", "http://s.example/x/b/c"),
        ("/a/b/../", "http://s.example/", "http://s.example/a/"),
        ("?page=2", "http://s.example/list", "http://s.example/list?page=2"),
        ("/p/a b", "http://s.example/", "http://s.example/p/a%20b"),
        ("/p/%C3%A9", "http://s.example/", "http://s.example/p/%C3%A9"),
        ("  /trim  ", "http://s.example/", "http://s.example/trim"),
        ("//cdn.example/x", "https://s.example/", "https://cdn.example/x"),
        ("mailto:a@b.c", "http://s.example/", None),
        ("javascript:void(0)", "http://s.example/", None),
        ("http://[::1]:8000/x", None, "http://[::1]:8000/x"),
        ("http://bad:port/", None, None),
    ],
)
def test_normalize_url(raw: str, base: str | None, expected: str | None):
    assert normalize_url(raw, base) == expected


def test_query_order_does_not_make_a_new_page():
    a = normalize_url("http://s.example/l?b=2&a=1")
    b = normalize_url("http://s.example/l?a=1&b=2")
    assert a != b and a is not None and b is not None
    assert dedupe_key(a) == dedupe_key(b)
    assert host_of(a) == "s.example"


def test_retry_after_seconds_and_dates():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("100000") == MAX_RETRY_AFTER
    in_ten = retry_after_seconds(formatdate(time.time() + 10, usegmt=True))
    assert in_ten is not None and 8 <= in_ten <= 10
    assert retry_after_seconds(formatdate(time.time() - 100, usegmt=True)) == 0.0


def test_backoff_grows_with_jitter_and_a_cap():
    first = [backoff_seconds(0, 0.5) for _ in range(200)]
    assert 0.25 <= min(first) and max(first) <= 0.75 and len(set(first)) > 1
    third = [backoff_seconds(2, 0.5) for _ in range(200)]
    assert 1.0 <= min(third) and max(third) <= 3.0
    assert max(backoff_seconds(30, 0.5) for _ in range(50)) <= 45.0


@pytest.mark.parametrize(
    "href",
    [
        "/p/1.html", "/p/../q", "/P/a b", "//cdn.example/x", "http://S.example:80/x",
        "https://s.example:8443/x?a=1#f", "rel/x", "../up", "?q=1", "#top", "", "/.hidden",
        "http://s.example/a/./b", "http://s.example", "mailto:x@y.z", "/x?a=[1]",
        "http://s.example:443/", "https://s.example:443/y",
    ],
)  # fmt: skip
def test_link_resolver_agrees_with_urljoin_then_normalize(href: str):
    base = "http://s.example:8000/dir/page.html"
    assert LinkResolver(base).resolve(href) == normalize_url(href, base)
    absolute = normalize_url(href, base)
    if absolute is not None:  # a normalised URL is a fixed point
        assert normalize_url(absolute) == absolute


def test_host_and_origin_of_normalised_urls():
    assert host_of("http://s.example:8080/a/b?c=//d") == "s.example:8080"
    assert host_of("https://[::1]/") == "[::1]"
    assert origin_of("https://s.example/a//b") == "https://s.example"
