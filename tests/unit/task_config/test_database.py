"""database_config validation: every key of docs/contracts/config.md, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from task_config import ConfigError, validate_config

BASE = {"task_name": "sync", "task_type": "database", "docker_image": "data-collection-database"}


def _section(**changes: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "source": {"url_env": "SOURCE_DB_URL"},
        "target": {"url_env": "TARGET_DB_URL"},
        "tables": [{"name": "orders"}],
    }
    section.update(changes)
    return {**BASE, "database_config": section}


def test_a_full_config_validates_with_defaults() -> None:
    config = validate_config(
        _section(
            tables=[
                {"name": "public.orders", "target_name": "orders_copy", "mode": "incremental",
                 "cursor_column": "updated_at", "primary_key": "id"},
                {"name": "customers"},
            ],
            batch_size=500,
            create_target_tables=False,
        )
    )  # fmt: skip
    section = config.database_config
    assert section is not None
    assert section.tables[0].primary_key == ("id",)
    assert section.tables[0].target_table == "orders_copy"
    assert section.tables[1].mode == "full" and section.tables[1].target_table == "customers"
    assert (section.batch_size, section.create_target_tables) == (500, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source": {"url_env": "has space"}}, "database_config.source.url_env"),
        ({"target": {}}, "database_config.target.url_env"),
        ({"target": {"url": "postgresql://x"}}, "database_config.target.url"),
        ({"tables": []}, "database_config.tables"),
        ({"tables": [{"name": "a;drop"}]}, "database_config.tables[0].name"),
        ({"tables": [{"name": "a", "mode": "upsert"}]}, "database_config.tables[0].mode"),
        ({"tables": [{"name": "a", "mode": "incremental"}]}, "database_config.tables[0]"),
        ({"tables": [{"name": "a", "primary_key": ["id", "id"]}]},
         "database_config.tables[0].primary_key"),
        ({"tables": [{"name": "a", "primary_key": ["bad name"]}]},
         "database_config.tables[0].primary_key"),
        ({"batch_size": 0}, "database_config.batch_size"),
        ({"batch_size": 2_000_000}, "database_config.batch_size"),
        ({"tables": [{"name": "a"}, {"name": "b", "target_name": "A"}]}, "database_config"),
        ({"tabels": []}, "database_config.tabels"),
    ],
)  # fmt: skip
def test_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(_section(**changes))
    assert any(name == field for name, _ in caught.value.errors), caught.value.errors


def test_incremental_error_says_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="needs cursor_column"):
        validate_config(_section(tables=[{"name": "a", "mode": "incremental"}]))
