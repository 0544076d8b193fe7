"""Full and incremental runs between the real databases: what the target holds after
each run, the counts and watermarks in result_data, cancel, progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from database_task import STATE_TABLE
from dbsync_sides import BASE_TIME, PLAIN_DDL, Runner, Side, fill_plain, plain_rows, plain_value

pytestmark = pytest.mark.integration

PAIRS = [("pg", "pg"), ("my", "pg"), ("pg", "my"), ("lite", "pg"), ("pg", "lite"), ("my", "lite")]


def _update(side: Side, table: str, ids: list[int], minutes: int) -> None:
    when = plain_value(side, BASE_TIME + dt.timedelta(minutes=minutes))
    marks = ", ".join(["%s"] * len(ids))
    side.execute(
        f"UPDATE {table} SET qty = -qty - 1, updated_at = %s WHERE id IN ({marks})",
        [when, *ids],
    )


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_full_then_incremental_with_updates_and_inserts_between_runs(
    source: str, target: str, sides: dict[str, Side], run_sync: Runner,
    table_name: Callable[[], str],
) -> None:  # fmt: skip
    src, tgt = sides[f"{source}_src"], sides[f"{target}_tgt"]
    table = table_name()
    src.execute(PLAIN_DDL[source].format(t=table))
    fill_plain(src, table, range(1, 51))
    spec = {"name": table, "mode": "incremental", "cursor_column": "updated_at"}

    full = run_sync(source, target, [{**spec, "mode": "full"}], batch_size=7)
    assert plain_rows(tgt, table) == plain_rows(src, table)
    summary = full["tables"][table]
    assert (summary["rows_read"], summary["rows_inserted"], summary["batches"]) == (50, 50, 8)
    assert summary["watermark_after"]["id"] in (50, "50")

    first = run_sync(source, target, [spec], batch_size=7)["tables"][table]
    assert (first["rows_read"], first["rows_inserted"], first["rows_updated"]) == (0, 0, 0)
    assert first["watermark_before"] == first["watermark_after"] == summary["watermark_after"]

    _update(src, table, [3, 10, 44], minutes=600)
    fill_plain(src, table, range(51, 61), minutes=700)
    second = run_sync(source, target, [spec], batch_size=4)
    assert plain_rows(tgt, table) == plain_rows(src, table)
    entry = second["tables"][table]
    assert (entry["rows_read"], entry["rows_inserted"], entry["rows_updated"]) == (13, 10, 3)
    assert entry["batches"] == 4 and entry["status"] == "completed"
    assert str(entry["watermark_after"]["id"]) == "60"
    assert second["status"] == "completed" and second["rows_read"] == 13


@pytest.mark.parametrize(("source", "target"), [("pg", "pg"), ("my", "pg"), ("pg", "my")])
def test_rows_tied_on_the_cursor_are_ordered_by_key_across_batches(
    source: str, target: str, sides: dict[str, Side], run_sync: Runner,
    table_name: Callable[[], str],
) -> None:  # fmt: skip
    """Regression guard: a watermark of the cursor alone would skip rows that share the
    last cursor value of a batch."""
    src, tgt = sides[f"{source}_src"], sides[f"{target}_tgt"]
    table = table_name()
    src.execute(PLAIN_DDL[source].format(t=table))
    fill_plain(src, table, range(1, 24), tie=True)
    spec = {"name": table, "mode": "incremental", "cursor_column": "updated_at"}
    # Asked before the table and after each batch: stop after the second batch.
    stops = iter([False, False])

    partial = run_sync(source, target, [spec], batch_size=5, should_stop=lambda: next(stops, True))
    assert partial["status"] == "cancelled"
    assert partial["tables"][table]["rows_read"] == 10
    assert [r[0] for r in plain_rows(tgt, table)] == list(range(1, 11))

    fill_plain(src, table, range(24, 30), tie=True)  # same cursor value again
    rest = run_sync(source, target, [spec], batch_size=5)["tables"][table]
    assert rest["rows_read"] == 19 and rest["rows_inserted"] == 19
    assert plain_rows(tgt, table) == plain_rows(src, table)


def test_cancelled_full_run_leaves_the_old_target_untouched(
    sides: dict[str, Side], run_sync: Runner, table_name: Callable[[], str]
) -> None:
    src, tgt = sides["pg_src"], sides["pg_tgt"]
    table = table_name()
    src.execute(PLAIN_DDL["pg"].format(t=table))
    fill_plain(src, table, range(1, 11))
    run_sync("pg", "pg", [{"name": table}])
    fill_plain(src, table, range(11, 40))

    stops = iter([False])  # asked before the table, then after the first batch
    result = run_sync(
        "pg", "pg", [{"name": table}], batch_size=5, should_stop=lambda: next(stops, True)
    )

    assert result["status"] == "cancelled"
    assert result["tables"][table]["status"] == "cancelled"
    assert [r[0] for r in plain_rows(tgt, table)] == list(range(1, 11))
    leftovers = tgt.query("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (f"{table}%",))
    assert leftovers == [(table,)]


def test_full_run_swaps_in_new_rows_and_keeps_a_serial_default(
    sides: dict[str, Side], run_sync: Runner, table_name: Callable[[], str]
) -> None:
    """Regression guard: the old table's sequence must move to the new table, or
    dropping the old one fails (or takes the default with it)."""
    src, tgt = sides["pg_src"], sides["pg_tgt"]
    table = table_name()
    src.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, label text)")
    src.execute(f"INSERT INTO {table} (label) SELECT 'x' || g FROM generate_series(1, 5) g")
    tgt.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, label text)")
    tgt.execute(f"INSERT INTO {table} (label) VALUES ('old')")

    result = run_sync("pg", "pg", [{"name": table}])

    assert result["tables"][table]["path"].endswith("(FORMAT binary) piped into COPY FROM")
    assert tgt.query(f"SELECT id, label FROM {table} ORDER BY id") == [
        (i, f"x{i}") for i in range(1, 6)
    ]
    tgt.execute(f"INSERT INTO {table} (label) VALUES ('new')")  # the default still works
    assert tgt.query(f"SELECT max(id), count(*) FROM {table}") == [(6, 6)]
    indexes = tgt.query("SELECT indexname FROM pg_indexes WHERE tablename = %s", (table,))
    assert indexes == [(f"{table}_pkey",)]


def test_progress_names_each_table_with_an_estimate(
    sides: dict[str, Side], run_sync: Runner, table_name: Callable[[], str]
) -> None:
    src = sides["my_src"]
    first, second = table_name(), table_name()
    for table in (first, second):
        src.execute(PLAIN_DDL["my"].format(t=table))
        fill_plain(src, table, range(1, 21))
    progress: list[dict[str, Any]] = []

    result = run_sync("my", "pg", [{"name": first}, {"name": second}], progress)

    assert result["tables_synced"] == 2
    starts = [p for p in progress if p["tables"][p["table"]]["status"] == "running"]
    assert {p["table"] for p in starts} == {first, second}
    assert all(p["tables"][p["table"]]["rows_estimated"] == 20 for p in starts)
    last = progress[-1]
    assert last["tables_done"] == 2 and last["rows_done"] == 40


def test_watermark_is_kept_in_the_target_state_table(
    sides: dict[str, Side], run_sync: Runner, table_name: Callable[[], str]
) -> None:
    src, tgt = sides["pg_src"], sides["my_tgt"]
    table = table_name()
    src.execute(PLAIN_DDL["pg"].format(t=table))
    fill_plain(src, table, range(1, 6))
    run_sync("pg", "my", [{"name": table, "mode": "incremental", "cursor_column": "updated_at",
                           "target_name": f"{table}_copy"}])  # fmt: skip
    [(source_table, cursor_column, rows)] = tgt.query(
        f"SELECT source_table, cursor_column, rows_synced FROM {STATE_TABLE} "
        "WHERE target_table = %s",
        (f"{table}_copy",),
    )
    assert (source_table, cursor_column, rows) == (table, "updated_at", 5)
