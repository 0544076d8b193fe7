"""A sync killed with SIGKILL mid-run, then run again, leaves the target equal to the
source; errors a user can cause name the variable, table or column, never a password."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dbsync_sides
import pytest
from database_task import STATE_TABLE, SyncError, sync
from dbsync_sides import PLAIN_DDL, Runner, Side, plain_rows
from task_config.database import DatabaseConfig

pytestmark = pytest.mark.integration

CHILD = Path(dbsync_sides.__file__).with_name("dbsync_child.py")
PASSWORD = "S3cret-Pa55word"


def _fill_many(side: Side, table: str, rows: int) -> None:
    side.execute(PLAIN_DDL[side.family].format(t=table))
    if side.family == "pg":
        side.execute(
            f"INSERT INTO {table} SELECT g, timestamp '2024-01-01' + g / 3 * interval '1 s', "
            f"g % 97, 'row ' || g FROM generate_series(1, {rows}) g"
        )
    else:
        side.execute(
            f"INSERT INTO {table} SELECT seq, TIMESTAMP('2024-01-01') + INTERVAL seq DIV 3 "
            f"SECOND, seq % 97, CONCAT('row ', seq) FROM seq_1_to_{rows}"
        )


def _state_rows(side: Side, table: str) -> int:
    try:
        found = side.query(
            f"SELECT rows_synced FROM {STATE_TABLE} WHERE target_table = %s", (table,)
        )
    except Exception:  # the state table is made by the child; not there yet
        return 0
    return int(found[0][0]) if found else 0


def _table_exists(side: Side, table: str) -> bool:
    return bool(side.query("SELECT 1 FROM pg_tables WHERE tablename = %s", (table,)))


def _kill_when(env: dict[str, str], config: dict[str, object], ready: Callable[[], bool]) -> None:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), json.dumps(config)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while not ready():
            if child.poll() is not None:
                _, stderr = child.communicate()
                raise AssertionError(f"the sync ended before the kill: {stderr.decode()[-2000:]}")
            assert time.monotonic() < deadline, "the sync never reached the kill point"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    ("source", "target", "rows"), [("pg", "pg", 60_000), ("my", "pg", 60_000), ("pg", "my", 8_000)]
)
def test_sigkill_mid_incremental_sync_then_rerun_gives_the_source_row_for_row(
    source: str, target: str, rows: int, sides: dict[str, Side], env: dict[str, str],
    run_sync: Runner, table_name: Callable[[], str],
) -> None:  # fmt: skip
    src, tgt = sides[f"{source}_src"], sides[f"{target}_tgt"]
    table = table_name()
    _fill_many(src, table, rows)
    spec = {"name": table, "mode": "incremental", "cursor_column": "updated_at"}
    config = {
        "source": {"url_env": f"{source.upper()}_SRC_URL"},
        "target": {"url_env": f"{target.upper()}_TGT_URL"},
        "tables": [spec],
        "batch_size": 200,
    }
    _kill_when(env, config, lambda: _state_rows(tgt, table) > 0)

    # What was committed is a prefix in (cursor, key) order, exactly as the watermark says.
    synced = _state_rows(tgt, table)
    copied = plain_rows(tgt, table)
    assert 0 < len(copied) == synced < rows
    assert copied == plain_rows(src, table)[: len(copied)]

    result = run_sync(source, target, [spec], batch_size=5000)["tables"][table]
    assert result["rows_read"] == rows - synced and result["rows_updated"] == 0
    assert plain_rows(tgt, table) == plain_rows(src, table)


def test_sigkill_mid_full_sync_keeps_the_old_target_and_a_rerun_completes(
    sides: dict[str, Side], env: dict[str, str], run_sync: Runner,
    table_name: Callable[[], str],
) -> None:  # fmt: skip
    src, tgt = sides["pg_src"], sides["pg_tgt"]
    table = table_name()
    _fill_many(src, table, 200_000)
    run_sync("pg", "pg", [{"name": table}])
    src.execute(f"UPDATE {table} SET qty = -1 WHERE id % 10 = 0")
    config = {
        "source": {"url_env": "PG_SRC_URL"},
        "target": {"url_env": "PG_TGT_URL"},
        "tables": [{"name": table}],
    }
    _kill_when(env, config, lambda: _table_exists(tgt, f"{table}__dbsync_new"))

    assert tgt.query(f"SELECT count(*) FROM {table} WHERE qty = -1") == [(0,)]
    run_sync("pg", "pg", [{"name": table}])
    assert plain_rows(tgt, table) == plain_rows(src, table)
    assert not _table_exists(tgt, f"{table}__dbsync_new")


def _config(source_env: str, target_env: str, **table: object) -> DatabaseConfig:
    return DatabaseConfig.model_validate(
        {"source": {"url_env": source_env}, "target": {"url_env": target_env},
         "tables": [{"name": "anything", **table}]}
    )  # fmt: skip


def test_a_wrong_url_names_the_variable_and_hides_the_password(env: dict[str, str]) -> None:
    bad = {
        **env,
        "BAD_PG": f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/no_such_database_dbsync",
        "BAD_MY": f"mysql://root:{PASSWORD}@127.0.0.1:3306/test",
    }
    for variable in ("BAD_PG", "BAD_MY"):
        with pytest.raises(SyncError) as caught:
            sync(_config(variable, "PG_TGT_URL"), bad, lambda p: None, lambda: False)
        message = str(caught.value)
        assert variable in message and "source database" in message
        assert PASSWORD not in message and PASSWORD not in repr(caught.value.partial)
        assert "***" in message


def test_an_unset_variable_or_a_non_url_is_named() -> None:
    with pytest.raises(SyncError, match="environment variable NOT_SET_ANYWHERE is not set"):
        sync(_config("NOT_SET_ANYWHERE", "X"), {}, lambda p: None, lambda: False)
    with pytest.raises(SyncError, match="SRC does not hold an SQLAlchemy URL") as caught:
        sync(_config("SRC", "X"), {"SRC": f"not a url {PASSWORD}"}, lambda p: None, lambda: False)
    assert PASSWORD not in str(caught.value)


def test_a_missing_table_is_named(env: dict[str, str]) -> None:
    with pytest.raises(SyncError, match=r"tables\[0\].name: table 'anything' not found"):
        sync(_config("PG_SRC_URL", "MY_TGT_URL"), env, lambda p: None, lambda: False)


def test_an_unmappable_column_fails_at_start_naming_it(
    sides: dict[str, Side], env: dict[str, str], table_name: Callable[[], str]
) -> None:
    table = table_name()
    sides["pg_src"].execute(f"CREATE TABLE {table} (id int PRIMARY KEY, span interval)")
    config = DatabaseConfig.model_validate(
        {"source": {"url_env": "PG_SRC_URL"}, "target": {"url_env": "MY_TGT_URL"},
         "tables": [{"name": table}]}
    )  # fmt: skip
    with pytest.raises(SyncError, match=rf"column {table}\.span has type interval"):
        sync(config, env, lambda p: None, lambda: False)
    assert sides["my_tgt"].query("SHOW TABLES LIKE %s", (table,)) == []


def test_incremental_without_any_key_is_refused(
    sides: dict[str, Side], env: dict[str, str], table_name: Callable[[], str]
) -> None:
    table = table_name()
    sides["pg_src"].execute(f"CREATE TABLE {table} (id int, updated_at timestamp)")
    config = DatabaseConfig.model_validate(
        {"source": {"url_env": "PG_SRC_URL"}, "target": {"url_env": "PG_TGT_URL"},
         "tables": [{"name": table, "mode": "incremental", "cursor_column": "updated_at"}]}
    )  # fmt: skip
    with pytest.raises(SyncError, match=r"tables\[0\].primary_key: source table .* no primary"):
        sync(config, env, lambda p: None, lambda: False)
