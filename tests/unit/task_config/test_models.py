"""The task config (docs/contracts/config.md): the guide's example validates; typos fail."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from task_config import ConfigError, validate_config

GUIDE_CONFIG: dict[str, Any] = {
    "task_name": "电商网站爬虫",
    "task_type": "crawler",
    "base_url": "https://example-ecommerce.com",
    "docker_image": "data-collection-crawler:latest",
    "crawler_config": {
        "target_urls": ["https://example-ecommerce.com/products",
                        "https://example-ecommerce.com/categories"],
        "max_pages": 100,
        "delay": 2,
        "user_agent": "Mozilla/5.0 (compatible; DataCollector/1.0)",
        "output_format": "json",
        "data_fields": ["product_name", "price", "description", "category", "availability"],
    },
    "storage_config": {"output_path": "/app/output", "filename_prefix": "ecommerce_products"},
}


def test_the_guides_example_config_validates_unchanged(tmp_path: Path) -> None:
    config = validate_config(copy.deepcopy(GUIDE_CONFIG))
    assert config.task_type == "crawler"
    assert config.storage_config.filename_prefix == "ecommerce_products"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(GUIDE_CONFIG, ensure_ascii=False), encoding="utf-8")
    assert validate_config(path) == config
    assert validate_config(json.dumps(GUIDE_CONFIG)) == config


def test_unknown_key_is_named() -> None:
    bad = copy.deepcopy(GUIDE_CONFIG)
    bad["crawler_config"]["max_page"] = 5
    with pytest.raises(ConfigError, match=r"crawler_config\.max_page: unknown key"):
        validate_config(bad)


def test_section_must_match_the_task_type() -> None:
    bad = copy.deepcopy(GUIDE_CONFIG)
    bad["task_type"] = "api"
    with pytest.raises(ConfigError, match="api_config is required"):
        validate_config(bad)


def test_custom_task_validates_only_the_common_keys() -> None:
    config = validate_config({"task_name": "mine", "task_type": "custom",
                              "docker_image": "me/task:1", "custom_config": {"any": [1, 2]}})
    assert config.custom_config == {"any": [1, 2]}


@pytest.mark.parametrize(("raw", "message"), [
    ("not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (Path("/nonexistent/config.json"), "cannot read"),
])
def test_unreadable_configs_say_why(raw: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)
