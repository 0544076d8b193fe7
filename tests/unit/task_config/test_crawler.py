"""crawler_config validation: the guide's example as it is, and every error names its field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from task_config import ConfigError, CrawlerConfig, validate_config

GUIDE = Path(__file__).parents[3] / "../shared/seed/000_5ff598008964cfd1.txt"
GUIDE_CONFIG: dict[str, Any] = {
    "task_name": "电商网站爬虫",
    "task_type": "crawler",
    "base_url": "https://example-ecommerce.com",
    "docker_image": "data-collection-crawler:latest",
    "crawler_config": {
        "target_urls": [
            "https://example-ecommerce.com/products",
            "https://example-ecommerce.com/categories",
        ],
        "max_pages": 100,
        "delay": 2,
        "user_agent": "Mozilla/5.0 (compatible; DataCollector/1.0)",
        "output_format": "json",
        "data_fields": ["product_name", "price", "description", "category", "availability"],
    },
    "storage_config": {"output_path": "/app/output", "filename_prefix": "ecommerce_products"},
}


def with_crawler(**keys: Any) -> dict[str, Any]:
    config = copy.deepcopy(GUIDE_CONFIG)
    config["crawler_config"].update(keys)
    return config


def error_of(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        validate_config(config)
    return str(caught.value)


def test_the_guides_example_validates_unchanged():
    if GUIDE.exists():  # the copy above must be the guide's own text
        found = re.search(r"```json\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
        assert found is not None and json.loads(found.group(1)) == GUIDE_CONFIG
    crawler = validate_config(GUIDE_CONFIG).crawler_config
    assert isinstance(crawler, CrawlerConfig)
    assert crawler.delay == 2 and crawler.max_pages == 100 and crawler.output_format == "json"
    assert crawler.data_fields == GUIDE_CONFIG["crawler_config"]["data_fields"]
    assert crawler.obey_robots_txt is True and crawler.render is False


def test_extractor_objects_validate():
    config = validate_config(
        with_crawler(
            data_fields={
                "name": {"css": "h1.title"},
                "img": {"css": "img", "attr": "src", "all": True},
                "sku": {"xpath": "//span[@class='sku']/text()"},
                "price": {"regex": r"Price: ([0-9.]+)", "type": "float"},
                "stock": {"jsonpath": "$.offers[*].availability", "type": "str"},
            },
            item_selector="div.product",
            follow_links={"css": "a.next", "pattern": r"/page/\d+"},
            max_depth=2, concurrency=4, obey_robots_txt=False, timeout=5, retries=1, render=True,
        )
    )  # fmt: skip
    fields = config.crawler_config.data_fields  # type: ignore[union-attr]
    assert isinstance(fields, dict)
    assert fields["price"].kind == "regex" and fields["price"].type == "float"
    assert fields["img"].all and fields["img"].attr == "src"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"target_urls": []}, "crawler_config.target_urls: List should have at least 1 item"),
        ({"target_urls": ["ftp://x/y"]}, "crawler_config.target_urls[0]: 'ftp://x/y' must start"),
        (
            {"target_urls": ["https://ok.example", "http://"]},
            "target_urls[1]: 'http://' has no host",
        ),
        ({"target_urls": ["http://a b"]}, "target_urls[0]: 'http://a b' contains whitespace"),
        ({"target_urls": ["http://h:99999/"]}, "target_urls[0]: 'http://h:99999/' is not a valid"),
        ({"max_pages": 0}, "crawler_config.max_pages: Input should be greater than or equal to 1"),
        ({"delay": -1}, "crawler_config.delay: Input should be greater than or equal to 0"),
        ({"output_format": "xml"}, "crawler_config.output_format: Input should be 'json', 'jsonl'"),
        ({"user_agent": "a\nb"}, "crawler_config.user_agent: must be a single line"),
        ({"concurrency": 0}, "crawler_config.concurrency: Input should be greater"),
        ({"timeout": 0}, "crawler_config.timeout: Input should be greater than 0"),
        ({"concurency": 3}, "crawler_config.concurency: unknown key (check the spelling)"),
        ({"data_fields": "name"}, "crawler_config.data_fields: must be a list of names"),
        ({"data_fields": []}, "crawler_config.data_fields: List should have at least 1 item"),
        ({"data_fields": ["a-b"]}, "crawler_config.data_fields: field name 'a-b' must be letters"),
        ({"data_fields": ["page_url"]}, "crawler_config.data_fields: 'page_url' is reserved"),
        ({"data_fields": {"t": {"css": "h1["}}}, "data_fields.t.css: 'h1[' is not a valid CSS"),
        (
            {"data_fields": {"t": {"xpath": "//a["}}},
            "data_fields.t.xpath: '//a[' is not a valid XPath",
        ),
        (
            {"data_fields": {"t": {"regex": "(a"}}},
            "data_fields.t.regex: '(a' is not a valid regular",
        ),
        (
            {"data_fields": {"t": {"jsonpath": "$.["}}},
            "data_fields.t.jsonpath: '$.[' is not a valid",
        ),
        (
            {"data_fields": {"t": {}}},
            "data_fields.t: give exactly one of css, xpath, regex, jsonpath",
        ),
        ({"data_fields": {"t": {"css": "a", "regex": "b"}}}, "(found css, regex)"),
        (
            {"data_fields": {"t": {"regex": "a", "attr": "href"}}},
            "data_fields.t: attr applies to css",
        ),
        (
            {"data_fields": {"t": {"css": "a", "type": "date"}}},
            "data_fields.t.type: Input should be",
        ),
        (
            {"data_fields": {"t": {"css": "a", "selector": "b"}}},
            "data_fields.t.selector: unknown key",
        ),
        ({"item_selector": "div["}, "crawler_config.item_selector: 'div[' is not a valid CSS"),
        (
            {"item_selector": "$.items["},
            "crawler_config.item_selector: '$.items[' is not a valid JSONPath",
        ),
        ({"follow_links": {}}, "crawler_config.follow_links: give css and/or pattern"),
        (
            {"follow_links": {"css": "a["}},
            "crawler_config.follow_links.css: 'a[' is not a valid CSS",
        ),
        (
            {"follow_links": {"pattern": "(x"}},
            "crawler_config.follow_links.pattern: '(x' is not a valid",
        ),
    ],
)
def test_each_config_error_names_its_field(keys: dict[str, Any], expected: str):
    assert expected in error_of(with_crawler(**keys))


def test_several_errors_are_reported_together():
    message = error_of(with_crawler(max_pages=-1, data_fields={"a": {"css": "["}}, bogus=1))
    assert "crawler_config.max_pages" in message
    assert "crawler_config.data_fields.a.css" in message
    assert "crawler_config.bogus: unknown key" in message


def test_crawler_config_is_required_for_a_crawler_task():
    config = copy.deepcopy(GUIDE_CONFIG)
    del config["crawler_config"]
    assert "crawler_config is required" in error_of(config)
