"""Every extractor kind, item_selector, output formats, politeness and cancel,
against the local shop site."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from crawler_task import Crawler, crawl
from task_config import validate_config

pytestmark = pytest.mark.integration


def run(config: dict[str, Any], **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = crawl(validate_config(config), backoff_base=0.05, **options)
    return result


def output_text(result: dict[str, Any]) -> str:
    [path] = result["output_files"]
    return Path(path).read_text(encoding="utf-8")


def test_css_xpath_regex_with_types_and_all(site: Any, make_config: Any):
    config = make_config(
        "json",
        target_urls=[site.url("/products/3")],  # plain markup
        data_fields={
            "name": {"css": "h1.title"},
            "link": {"css": "a", "attr": "href"},
            "tags": {"css": "ul.tags li", "all": True},
            "heading": {"xpath": "//h1/text()"},
            "tag_count": {"xpath": "count(//ul/li)", "type": "int"},
            "first_tag": {"xpath": "//ul/li"},
            "price": {"regex": r"Price: €([0-9.]+)", "type": "float"},
            "numbers": {"regex": r"Widget (\d+)", "all": True, "type": "int"},
        },
    )
    [record] = json.loads(output_text(run(config)))

    assert record == {
        "name": "Widget 3",
        "link": "/products/3#top",
        "tags": ["new", "sale"],
        "heading": "Widget 3",
        "tag_count": 2,
        "first_tag": "new",
        "price": 13.99,
        "numbers": [3, 3],
        "page_url": site.url("/products/3"),
    }


def test_jsonpath_on_json_pages_and_on_json_ld(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/api/products.json"), site.url("/products/1")],
        data_fields={
            "total": {"jsonpath": "$.total"},
            "names": {"jsonpath": "$.products[*].name", "all": True},
            "sku": {"jsonpath": "$.sku"},
            "price": {"jsonpath": "$.offers.price", "type": "float"},
        },
    )
    records = {r["page_url"]: r for r in map(json.loads, output_text(run(config)).splitlines())}

    api = records[site.url("/api/products.json")]
    assert api["total"] == 6 and api["names"] == [f"Widget {i}" for i in range(1, 7)]
    detail = records[site.url("/products/1")]
    assert detail["sku"] == "W-1" and detail["price"] == 11.99 and detail["total"] is None


def test_item_selector_gives_one_record_per_item_as_csv(site: Any, make_config: Any):
    config = make_config(
        "csv",
        target_urls=[site.url("/products")],
        item_selector="div.product",
        data_fields={
            "name": {"css": "a.detail"},
            "url": {"css": "a.detail", "attr": "href"},
            "price": {"css": ".price", "type": "float"},
            "cents": {"regex": r"\.(\d\d)<", "type": "int"},
        },
    )
    rows = list(csv.DictReader(output_text(run(config)).splitlines()))

    assert len(rows) == 6
    assert rows[0] == {
        "name": "Widget 1", "url": "/products/1", "price": "11.99", "cents": "99",
        "page_url": site.url("/products"),
    }  # fmt: skip


def test_item_selector_as_jsonpath_on_json_pages(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/api/products.json")],
        item_selector="$.products[*]",
        data_fields={
            "name": {"jsonpath": "$.name"},
            "price": {"jsonpath": "$.price", "type": "float"},
        },
    )
    records = [json.loads(line) for line in output_text(run(config)).splitlines()]

    assert [(r["name"], r["price"]) for r in records][:2] == [
        ("Widget 1", 11.99),
        ("Widget 2", 12.99),
    ]
    assert len(records) == 6


def test_a_value_that_does_not_fit_its_type_is_counted(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/products/3")],
        data_fields={"name": {"css": "h1.title"}, "bad": {"css": "ul.tags li", "type": "float"}},
    )
    result = run(config)

    assert result["errors"] == {"type_coercion": 1}
    assert json.loads(output_text(result)) == {
        "name": "Widget 3", "bad": None, "page_url": site.url("/products/3"),
    }  # fmt: skip


def test_politeness_gap_between_requests_to_one_host(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/products")],
        follow_links={"css": "a.detail"},
        delay=0.25,
        concurrency=4,
    )
    result = run(config)

    times = [t for t, _, _ in site.log]
    assert len(times) == 8  # robots.txt, the listing, six details
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.25, gaps
    assert result["pages_crawled"] == 7


def test_cancel_mid_crawl_leaves_a_valid_partial_file(site: Any, make_config: Any):
    site.serve_limit = 12
    config = make_config(
        "json",
        target_urls=[site.url("/endless/1")],
        follow_links={"css": "a"},
        data_fields={"title": {"css": "h1.title"}},
        max_pages=10_000,
        max_depth=1000,
        delay=0.01,
    )
    progress: list[dict[str, Any]] = []
    crawler = Crawler(
        validate_config(config), progress.append, site.served.is_set, progress_interval=0.05
    )
    result = crawler.run()

    assert result["status"] == "cancelled" and result["stop_reason"] == "cancelled"
    assert 10 <= result["pages_crawled"] < 30
    records = json.loads(output_text(result))
    assert len(records) == result["records"] >= 10
    assert progress[-1]["stage"] == "cancelled"
    assert progress[-1]["pages_done"] == result["pages_crawled"]
    assert {"pages_done", "max_pages", "records", "errors", "pages_per_second"} <= set(progress[0])


def test_progress_is_reported_while_crawling(site: Any, make_config: Any):
    site.slow_seconds = 0.6
    config = make_config(
        target_urls=[site.url("/slow"), site.url("/landing")],
        data_fields={"title": {"css": "h1.title"}},
        concurrency=1,
    )
    reports: list[dict[str, Any]] = []
    run(config, reporter=reports.append, progress_interval=0.1)

    assert len(reports) >= 3
    assert reports[-1]["pages_done"] == 2 and reports[-1]["records"] == 2
    assert reports[-1]["max_pages"] == 100 and reports[-1]["stage"] == "no_more_links"


def test_stop_from_another_thread_during_a_slow_fetch(site: Any, make_config: Any):
    site.slow_seconds = 30
    stop = threading.Event()
    site.serve_limit = 2  # robots.txt, then /slow
    threading.Thread(target=lambda: site.served.wait(10) and stop.set(), daemon=True).start()
    config = make_config(target_urls=[site.url("/slow")], data_fields={"t": {"css": "h1"}})
    result = run(config, should_stop=stop.is_set)

    assert result["status"] == "cancelled" and result["pages_crawled"] == 0
    assert output_text(result) == ""
