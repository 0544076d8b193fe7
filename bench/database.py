"""Benchmark of the database sync: 1,000,000 rows of 10 mixed columns.

    .venv/bin/python bench/database.py [--rows N]

Runs, on this machine's PostgreSQL and MariaDB (own databases, dropped afterwards):
the physical limit (psql COPY TO STDOUT binary piped into COPY FROM STDIN), the sync
PG->PG full, the 1% incremental, MariaDB->PG full, each beside the naive path
(SQLAlchemy executemany) and, for MariaDB->PG, Debian's pgloader on the same data.
Prints seconds, rows/s, peak RSS and the ratios the issue sets as goals. Never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from _db_data import (
    PG_TABLE_DDL,
    mysql_drop_database,
    mysql_make_table,
    mysql_recreate_database,
    mysql_url,
    pg_drop_database,
    pg_dsn,
    pg_make_table,
    pg_recreate_database,
    pg_url,
)

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
SRC, TGT, NAIVE, PGL = (
    "dbsync_bench_src",
    "dbsync_bench_tgt",
    "dbsync_bench_naive",
    "dbsync_bench_pgl",
)
TABLE = "items"


def _run(kind: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, str(HERE / "_db_run.py"), kind, *args],
        env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _sync(
    source_env: str, target_env: str, table: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    config = {"source": {"url_env": source_env}, "target": {"url_env": target_env},
              "tables": [table], "batch_size": 10_000}  # fmt: skip
    return _run("sync", json.dumps(config), env=env)


def _pg(database: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_dsn(database), autocommit=True) as conn:
        cur = conn.execute(sql)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def _reset_table(database: str) -> None:
    _pg(database, f"DROP TABLE IF EXISTS {TABLE}")
    _pg(database, PG_TABLE_DDL.format(name=TABLE))


def _timed_shell(command: str) -> tuple[float, float]:
    """Seconds and peak RSS (MB, of the largest process) of a shell pipeline."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "maxrss=%M", "bash", "-o", "pipefail", "-c", command],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command!r} failed:\n{done.stderr[-3000:]}")
    found = re.findall(r"maxrss=(\d+)", done.stderr)
    return seconds, int(found[-1]) / 1024 if found else float("nan")


def _line(label: str, rows: int, seconds: float, rss: float, extra: str = "") -> float:
    rate = rows / seconds if seconds else float("nan")
    print(f"  {label:<44} {rows:>9,} rows {seconds:8.2f} s {rate:>10,.0f} rows/s "
          f"{rss:7.1f} MB peak RSS {extra}")  # fmt: skip
    return rate


def _parse_rows() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows: int = parser.parse_args().rows
    return rows


def _ensure_pgloader() -> None:
    if not shutil.which("pgloader"):
        print("pgloader missing: installing Debian's package", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "pgloader"], check=True,
                       capture_output=True)  # fmt: skip


def _make_data(rows: int) -> None:
    print(f"making {rows:,} rows of 10 columns in PostgreSQL and MariaDB...", flush=True)
    for database in (SRC, TGT, NAIVE, PGL):
        pg_recreate_database(database)
    pg_make_table(SRC, TABLE, rows)
    mysql_recreate_database(SRC)
    mysql_make_table(SRC, TABLE, rows)


def _drop_data() -> None:
    for database in (SRC, TGT, NAIVE, PGL):
        pg_drop_database(database)
    mysql_drop_database(SRC)


def _pg_full(rows: int, env: dict[str, str]) -> dict[str, Any]:
    """Physical limit, sync and naive path, PG->PG full; returns the sync's figures."""
    print("\nPostgreSQL -> PostgreSQL, full")
    _reset_table(TGT)
    pipe_cmd = (
        f"psql -X -q -h 127.0.0.1 -U postgres -d {SRC} -c "
        f"'COPY {TABLE} TO STDOUT (FORMAT binary)' | psql -X -q -h 127.0.0.1 -U postgres "
        f"-d {TGT} -c 'COPY {TABLE} FROM STDIN (FORMAT binary)'"
    )
    seconds, rss = _timed_shell(pipe_cmd)
    pipe_rate = _line("physical limit: COPY binary | COPY", rows, seconds, rss)
    _pg(TGT, f"DROP TABLE {TABLE}")
    full = _sync("BENCH_PG_SRC", "BENCH_PG_TGT", {"name": TABLE}, env)
    full_rate = _line("sync (full)", full["rows"], full["seconds"], full["peak_rss_mb"],
                      f"[{full['path']}]")  # fmt: skip
    _reset_table(NAIVE)
    naive = _run("naive-full", pg_url(SRC), pg_url(NAIVE), TABLE)
    naive_rate = _line("naive: SQLAlchemy executemany", naive["rows"], naive["seconds"],
                       naive["peak_rss_mb"])  # fmt: skip
    print(f"  sync / physical limit: {full_rate / pipe_rate:.0%} (goal >= 60%); "
          f"sync / naive: {full_rate / naive_rate:.1f}x")  # fmt: skip
    return full


def _pg_incremental(env: dict[str, str]) -> dict[str, Any]:
    """Sync and naive upsert after 1% of the rows changed; returns the sync's figures.
    Runs after _pg_full, whose naive copy the naive upsert updates."""
    print("\nPostgreSQL -> PostgreSQL, incremental with 1% of rows changed")
    incremental = {"name": TABLE, "target_name": f"{TABLE}_inc", "mode": "incremental",
                   "cursor_column": "updated_at"}  # fmt: skip
    _sync("BENCH_PG_SRC", "BENCH_PG_TGT", incremental, env)  # the initial load
    (since,) = _pg(SRC, f"SELECT max(updated_at) FROM {TABLE}")[0]
    _pg(SRC, f"UPDATE {TABLE} SET qty = qty + 1, updated_at = updated_at + interval "
             f"'1 year' WHERE id % 100 = 0")  # fmt: skip
    inc = _sync("BENCH_PG_SRC", "BENCH_PG_TGT", incremental, env)
    _line("sync (incremental)", inc["rows"], inc["seconds"], inc["peak_rss_mb"],
          f"(goal <= 2 s) [{inc['path']}]")  # fmt: skip
    naive_inc = _run("naive-incremental", pg_url(SRC), pg_url(NAIVE), TABLE, since.isoformat())
    _line("naive: SQLAlchemy executemany upsert", naive_inc["rows"], naive_inc["seconds"],
          naive_inc["peak_rss_mb"])  # fmt: skip
    print(f"  sync / naive: {naive_inc['seconds'] / inc['seconds']:.1f}x faster")
    return inc


def _mysql_full(env: dict[str, str]) -> dict[str, Any]:
    """Sync, pgloader and naive path, MariaDB->PG full; returns the sync's figures."""
    print("\nMariaDB -> PostgreSQL, full")
    # Same data as the PostgreSQL source had before the 1% update.
    my_full = _sync("BENCH_MY_SRC", "BENCH_PG_TGT", {"name": TABLE,
                    "target_name": f"{TABLE}_my"}, env)  # fmt: skip
    my_rate = _line("sync (full)", my_full["rows"], my_full["seconds"],
                    my_full["peak_rss_mb"], f"[{my_full['path']}]")  # fmt: skip
    seconds, rss = _timed_shell(
        f"pgloader --quiet mysql://root@127.0.0.1:3306/{SRC} "
        f"postgresql://postgres@127.0.0.1:5432/{PGL} >/dev/null"
    )
    (loaded,) = _pg(PGL, f"SELECT count(*) FROM {SRC}.{TABLE}")[0]
    pgl_rate = _line("pgloader (Debian)", loaded, seconds, rss)
    _reset_table(NAIVE)
    my_naive = _run("naive-full", mysql_url(SRC), pg_url(NAIVE), TABLE)
    my_naive_rate = _line("naive: SQLAlchemy executemany", my_naive["rows"],
                          my_naive["seconds"], my_naive["peak_rss_mb"])  # fmt: skip
    print(f"  sync / pgloader: {my_rate / pgl_rate:.2f}x (goal >= 1.5x); "
          f"sync / naive: {my_rate / my_naive_rate:.1f}x")  # fmt: skip
    return my_full


def main() -> None:
    rows = _parse_rows()
    _ensure_pgloader()
    env = {
        "BENCH_PG_SRC": pg_url(SRC), "BENCH_PG_TGT": pg_url(TGT),
        "BENCH_MY_SRC": mysql_url(SRC),
    }  # fmt: skip
    try:
        _make_data(rows)
        full = _pg_full(rows, env)
        inc = _pg_incremental(env)
        my_full = _mysql_full(env)
        peak = max(full["peak_rss_mb"], inc["peak_rss_mb"], my_full["peak_rss_mb"])
        print(f"\npeak RSS of the sync runs: {peak:.0f} MB (goal <= 256 MB)")
    finally:
        _drop_data()


if __name__ == "__main__":
    main()
