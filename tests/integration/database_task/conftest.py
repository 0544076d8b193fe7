"""Fixtures of the database task's integration tests: real PostgreSQL, MariaDB, SQLite."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from database_task import sync
from dbsync_sides import FAMILIES, Runner, Side
from task_config.database import DatabaseConfig

_counter = itertools.count()


@pytest.fixture(scope="session")
def sides(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Side]]:
    """Source and target database of each family: ``pg_src``, ``pg_tgt``, ``my_src``..."""
    tmp = tmp_path_factory.mktemp("sqlite")
    tag = os.getpid()
    made: dict[str, Side] = {}
    try:
        for family in FAMILIES:
            for role in ("src", "tgt"):
                made[f"{family}_{role}"] = Side(family, f"dbsync_{role}_{tag}", tmp)
        yield made
    finally:
        for side in made.values():
            side.drop()


@pytest.fixture
def table_name() -> Callable[[], str]:
    """A table name no other test uses."""
    return lambda: f"t{os.getpid()}_{next(_counter)}"


@pytest.fixture
def env(sides: dict[str, Side]) -> dict[str, str]:
    """Environment variables holding each database's URL: PG_SRC_URL, MY_TGT_URL..."""
    return {f"{key.upper()}_URL": side.url for key, side in sides.items()}


@pytest.fixture
def run_sync(env: dict[str, str]) -> Runner:
    """run_sync("pg", "my", [tables...], batch_size=...) -> result_data."""

    def run(
        source: str,
        target: str,
        tables: list[dict[str, Any]],
        progress: list[dict[str, Any]] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        **options: Any,
    ) -> dict[str, Any]:
        config = DatabaseConfig.model_validate(
            {
                "source": {"url_env": f"{source.upper()}_SRC_URL"},
                "target": {"url_env": f"{target.upper()}_TGT_URL"},
                "tables": tables,
                **options,
            }
        )
        sink = progress if progress is not None else []
        return sync(config, env, sink.append, should_stop)

    return run
