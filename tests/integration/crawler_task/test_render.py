"""render: true through Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from crawler_task import crawl
from task_config import validate_config

pytestmark = pytest.mark.integration

FIELDS = {"name": {"css": "h2"}, "price": {"css": ".price", "type": "float"}}


def test_products_made_by_a_script_need_render(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/rendered")], item_selector="div.product", data_fields=FIELDS
    )
    plain = crawl(validate_config(config))
    rendered = crawl(
        validate_config({**config, "crawler_config": {**config["crawler_config"], "render": True}})
    )

    assert plain["records"] == 0  # without the script there is nothing to find
    [path] = rendered["output_files"]
    records = [json.loads(line) for line in Path(path).read_text().splitlines()]
    assert [(r["name"], r["price"]) for r in records] == [
        (f"Widget {i}", 10 + i + 0.99) for i in range(1, 7)
    ]
    assert rendered["pages_crawled"] == 1 and rendered["errors"] == {}
    # The browser ran the page's script: it fetched the data, with our user agent.
    browser_hits = [ua for _, path, ua in site.log if path == "/api/products.json"]
    assert browser_hits == ["Mozilla/5.0 (compatible; DataCollector/1.0)"]


def test_render_reports_http_errors_and_respects_robots(site: Any, make_config: Any):
    config = make_config(
        target_urls=[site.url("/products/99"), site.url("/private/x")],
        data_fields=FIELDS,
        render=True,
    )
    result = crawl(validate_config(config))

    assert result["errors"] == {"http_404": 1}
    assert result["skipped"] == {"robots": 1}
    assert "/private/x" not in site.paths()
