"""The crawl engine against the local shop site: the guide's config, robots.txt,
retries, redirects, limits, dedupe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from crawler_task import crawl
from task_config import validate_config

pytestmark = pytest.mark.integration

GUIDE_FIELDS = ["product_name", "price", "description", "category", "availability"]


def run(config: dict[str, Any], **options: Any) -> dict[str, Any]:
    options.setdefault("backoff_base", 0.05)
    result: dict[str, Any] = crawl(validate_config(config), **options)
    return result


def read_jsonl(result: dict[str, Any]) -> list[dict[str, Any]]:
    [path] = result["output_files"]
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_guide_config_with_local_urls_collects_the_guides_fields(site: Any, make_config: Any):
    config = make_config(
        "json",
        target_urls=[site.url("/products"), site.url("/categories")],
        follow_links={"css": "a.detail"},
        max_depth=1,
    )
    result = run(config)

    [path] = result["output_files"]
    records = json.loads(Path(path).read_text())
    by_name = {r["product_name"]: r for r in records}
    # Products 1 and 4 are JSON-LD pages, 2 and 5 microdata, 3 and 6 plain markup.
    assert set(by_name) == {"Widget 1", "Widget 2", "Widget 4", "Widget 5"}
    assert by_name["Widget 1"] == {
        "product_name": "Widget 1",
        "price": "11.99",
        "description": "The Widget 1, sturdy.",
        "category": "Tools",
        "availability": "InStock",
        "page_url": site.url("/products/1"),
    }
    assert by_name["Widget 2"]["price"] == "12.99"
    assert by_name["Widget 2"]["availability"] == "OutOfStock"
    assert by_name["Widget 2"]["category"] == "Tools"
    assert result["status"] == "completed"
    assert result["pages_crawled"] == 8  # 2 start pages + 6 details
    assert result["records"] == 4
    assert result["output_bytes"] == Path(path).stat().st_size
    assert result["duration_seconds"] > 0


def test_robots_txt_is_obeyed_and_fetched_with_the_user_agent(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/products")],
        follow_links={"css": "a"},
        user_agent="ShopBot/2.0 (+https://example.org/bot)",
        max_depth=1,
    )
    result = run(config)

    assert "/private/secret" not in site.paths()
    assert result["skipped"]["robots"] == 1
    assert site.paths()[0] == "/robots.txt"
    assert {ua for _, _, ua in site.log} == {"ShopBot/2.0 (+https://example.org/bot)"}


def test_robots_txt_can_be_ignored(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/private/secret")], obey_robots_txt=False,
        data_fields={"title": {"css": "h1.title"}},
    )  # fmt: skip
    result = run(config)

    assert site.paths() == ["/private/secret"]
    assert [r["title"] for r in read_jsonl(result)] == ["Secret"]


def test_link_loop_redirects_and_duplicates_are_fetched_once(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/products")],
        follow_links={"css": "a"},
        data_fields={"title": {"css": "h1.title"}},
        max_depth=10,
    )
    result = run(config)

    paths = [p for p in site.paths() if p != "/robots.txt"]
    assert len(paths) == len(set(paths)), f"fetched twice: {paths}"
    assert {"/loop/a", "/loop/b", "/redirect/3", "/redirect/1", "/landing"} <= set(paths)
    assert not any("elsewhere" in p for p in paths)
    titles = {r["title"] for r in read_jsonl(result)}
    assert "Landed" in titles  # the end of the redirect chain was parsed
    assert result["skipped"]["non_html"] == 1  # catalog.pdf
    assert result["errors"] == {}


def test_redirect_limit(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/redirect/5")], max_redirects=2, data_fields={"t": {"css": "h1"}}
    )
    result = run(config)

    assert result["errors"] == {"too_many_redirects": 1}
    assert "/landing" not in site.paths()


def test_500_then_429_with_retry_after_recover(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/flaky"), site.url("/busy")],
        data_fields={"title": {"css": "h1.title"}},
    )
    result = run(config)

    assert sorted(r["title"] for r in read_jsonl(result)) == ["Recovered", "Served after waiting"]
    assert site.hits["/flaky"] == 2 and site.hits["/busy"] == 2
    busy = [t for t, path, _ in site.log if path == "/busy"]
    assert busy[1] - busy[0] >= 1.0  # Retry-After: 1 honoured
    assert result["errors"] == {} and result["retries"] == 2


def test_retries_exhausted_count_the_error_kind(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/flaky")], retries=0, data_fields={"title": {"css": "h1"}}
    )
    result = run(config)

    assert result["errors"] == {"http_500": 1}
    assert result["pages_crawled"] == 1 and result["records"] == 0


def test_slow_page_times_out(site: Any, make_config: Any):
    site.slow_seconds = 3
    config = make_config(
        target_urls=[site.url("/slow"), site.url("/landing")],
        timeout=0.3,
        retries=1,
        data_fields={"title": {"css": "h1.title"}},
    )
    result = run(config)

    assert result["errors"] == {"timeout": 1}
    assert site.hits["/slow"] == 2  # one retry
    assert [r["title"] for r in read_jsonl(result)] == ["Landed"]


def test_oversized_and_non_html_are_skipped_with_reasons(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/big"), site.url("/catalog.pdf"), site.url("/landing")],
        max_response_bytes=100_000,
        data_fields={"title": {"css": "h1.title"}},
    )
    result = run(config)

    assert result["skipped"] == {"too_large": 1, "non_html": 1}
    assert result["records"] == 1


def test_max_pages_is_exact(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/endless/1")],
        follow_links={"pattern": "/endless/"},
        data_fields={"title": {"css": "h1.title"}},
        max_pages=17,
        max_depth=100,
        concurrency=8,
    )
    result = run(config)

    assert result["pages_crawled"] == 17 and result["records"] == 17
    assert len([p for p in site.paths() if p.startswith("/endless/")]) == 17
    assert result["stop_reason"] == "max_pages"


def test_max_depth_limits_link_following(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/endless/1")],
        follow_links={"css": "a"},
        data_fields={"title": {"css": "h1.title"}},
        max_depth=2,
    )
    result = run(config)

    assert result["pages_crawled"] == 1 + 3 + 9
    assert result["stop_reason"] == "no_more_links"


def test_follow_links_pattern_and_other_hosts(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/products")],
        follow_links={"css": "a", "pattern": r"/products/[0-9]+$"},
        max_depth=1,
    )
    run(config)

    fetched = {p for p in site.paths() if p != "/robots.txt"}
    assert fetched == {"/products"} | {f"/products/{i}" for i in range(1, 7)}


def test_unreachable_robots_txt_means_nothing_is_crawled(site: Any, make_config: Any):
    site.robots_status = 503
    config = make_config(target_urls=[site.url("/products"), site.url("/landing")], retries=1)
    result = run(config)

    assert site.paths() == ["/robots.txt", "/robots.txt"]  # one retry, then RFC 9309 disallow
    assert result["skipped"] == {"robots": 2} and result["pages_crawled"] == 0


def test_missing_robots_txt_allows_all(site: Any, make_config: Any):
    site.robots_status = 404
    config = make_config(
        target_urls=[site.url("/private/x")], data_fields={"title": {"css": "h1.title"}}
    )
    assert run(config)["records"] == 1


def test_robots_group_named_in_the_user_agent_and_its_crawl_delay(site: Any, make_config: Any):
    site.robots_text = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: DataCollector\nCrawl-delay: 1\nDisallow: /private/\n"
    )
    config = make_config(
        target_urls=[site.url("/landing"), site.url("/flaky"), site.url("/private/x")],
        data_fields={"title": {"css": "h1.title"}},
        retries=0,
    )
    result = run(config)

    assert result["skipped"] == {"robots": 1}
    assert result["pages_crawled"] == 2
    times = [t for t, _, _ in site.log]
    assert all(b - a >= 1 for a, b in zip(times, times[1:], strict=False))  # integer seconds


def test_other_hosts_are_followed_when_same_host_is_false(site: Any, make_config: Any):
    other = site.url("/landing").replace("127.0.0.1", "localhost")
    config = make_config(
        target_urls=[site.url("/categories")],
        follow_links={"css": "a", "same_host": False},
        data_fields={"title": {"css": "h1.title"}},
        max_depth=1,
    )
    site_page = site.url("/categories")
    assert run(config)["pages_crawled"] == 4  # categories, products, flaky, busy
    config["crawler_config"]["target_urls"] = [site_page, other]
    config["crawler_config"]["follow_links"] = {"pattern": "localhost"}
    result = run(config)
    assert result["records"] == 1 and result["pages_crawled"] == 2
