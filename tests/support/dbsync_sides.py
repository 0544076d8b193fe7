"""The three databases of the tests: PostgreSQL and MariaDB on this machine (own
databases, dropped afterwards) and SQLite files; plain-driver helpers for each."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pymysql

FAMILIES = ("pg", "my", "lite")
# run_sync(source_family, target_family, tables, progress=None, should_stop=..., **options)
Runner = Callable[..., dict[str, Any]]
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


class Side:
    """One database: a family ("pg", "my", "lite"), its URL, SQL helpers."""

    def __init__(self, family: str, name: str, tmp: Path) -> None:
        self.family, self.name = family, name
        if family == "pg":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
                conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        elif family == "my":
            with self._mysql(None) as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            self.url = f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
        else:
            self.path = tmp / f"{name}.db"
            self.url = f"sqlite:///{self.path}"

    @staticmethod
    def _mysql(database: str | None) -> Any:
        return pymysql.connect(
            host="127.0.0.1", user="root", password="", database=database, autocommit=True,
            init_command="SET time_zone = '+00:00'",
        )  # fmt: skip

    def connect(self) -> Any:
        if self.family == "pg":
            conn = psycopg.connect(
                f"host=127.0.0.1 port=5432 user=postgres dbname={self.name}", autocommit=True
            )
            conn.execute("SET TIME ZONE 'UTC'")
            return conn
        if self.family == "my":
            return self._mysql(self.name)
        conn = sqlite3.connect(self.path, isolation_level=None)
        return conn

    def execute(self, sql: str, params: Any = None, many: bool = False) -> None:
        if self.family == "lite":
            sql = sql.replace("%s", "?")
        conn = self.connect()
        try:
            cur = conn.cursor()
            if many:
                cur.executemany(sql, params)
            elif params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
        finally:
            conn.close()

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        if self.family == "lite":
            sql = sql.replace("%s", "?")
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(sql) if params is None else cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            conn.close()

    def drop(self) -> None:
        if self.family == "pg":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')  # type: ignore[arg-type]
        elif self.family == "my":
            with self._mysql(None) as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        elif self.path.exists():
            os.remove(self.path)


# A plain table used by the sync tests: id, a cursor column, a value.
PLAIN_DDL = {
    "pg": "CREATE TABLE {t} (id integer PRIMARY KEY, updated_at timestamp NOT NULL, "
    "qty integer, label text)",
    "my": "CREATE TABLE {t} (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL, "
    "qty INT, label TEXT)",
    "lite": "CREATE TABLE {t} (id INTEGER PRIMARY KEY, updated_at DATETIME NOT NULL, "
    "qty INTEGER, label TEXT)",
}
BASE_TIME = dt.datetime(2024, 1, 1)


def plain_value(side: Side, when: dt.datetime) -> Any:
    return when.isoformat(sep=" ", timespec="microseconds") if side.family == "lite" else when


def fill_plain(side: Side, table: str, ids: range, minutes: int = 0, tie: bool = False) -> None:
    """Rows id in ``ids``; updated_at = BASE_TIME + id seconds + minutes (all equal with
    ``tie``, so only the key orders them)."""
    rows = []
    for i in ids:
        when = BASE_TIME + dt.timedelta(minutes=minutes, seconds=0 if tie else i)
        rows.append((i, plain_value(side, when), i % 97, f"row {i}\twith\ttabs"))
    side.execute(
        f"INSERT INTO {table} (id, updated_at, qty, label) VALUES (%s, %s, %s, %s)",
        rows,
        many=True,
    )


def plain_rows(side: Side, table: str) -> list[tuple[Any, ...]]:
    """Rows normalised across families, ordered by id."""
    out = []
    for id_, when, qty, label in side.query(
        f"SELECT id, updated_at, qty, label FROM {table} ORDER BY id"
    ):
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when)
        out.append((int(id_), when, qty, label))
    return out


# The type round trip: one column of every mappable kind.
ROUNDTRIP_DDL = {
    "pg": "CREATE TABLE {t} (id integer PRIMARY KEY, i16 smallint, i64 bigint, "
    "num numeric(14, 3), f64 double precision, f32 real, flag boolean, vc varchar(40), "
    "txt text, d date, tm time, ts timestamp, tstz timestamptz, js jsonb, bin bytea, "
    "uid uuid)",
    "my": "CREATE TABLE {t} (id INT PRIMARY KEY, i16 SMALLINT, i64 BIGINT, "
    "num DECIMAL(14, 3), f64 DOUBLE, f32 FLOAT, flag BOOLEAN, vc VARCHAR(40), txt TEXT, "
    "d DATE, tm TIME(6), ts DATETIME(6), tstz TIMESTAMP(6) NULL, js JSON, bin LONGBLOB, "
    "uid CHAR(36))",
    "lite": "CREATE TABLE {t} (id INTEGER PRIMARY KEY, i16 SMALLINT, i64 BIGINT, "
    "num DECIMAL(14, 3), f64 DOUBLE, f32 REAL, flag BOOLEAN, vc VARCHAR(40), txt TEXT, "
    "d DATE, tm TIME, ts DATETIME, tstz DATETIME, js JSON, bin BLOB, uid CHAR(36))",
}
ROUNDTRIP_COLUMNS = [
    "id", "i16", "i64", "num", "f64", "f32", "flag", "vc", "txt", "d", "tm", "ts", "tstz",
    "js", "bin", "uid",
]  # fmt: skip
UTC = dt.UTC
ROUNDTRIP_ROWS: list[tuple[Any, ...]] = [
    (
        1, -32768, 9007199254740993, decimal.Decimal("12345678901.123"), 1.5e-7, 0.5, True,
        "é 日本 'q' \"dq\"", "a\tb\nc\\d\r\ne \\N end", dt.date(1999, 12, 31),
        dt.time(13, 14, 15, 123456), dt.datetime(2024, 2, 29, 23, 59, 59, 123456),
        dt.datetime(2024, 6, 1, 10, 0, 0, 500000, tzinfo=UTC), {"a": [1, 2], "b": "x\ny"},
        b"\x00\x01\xff\\\n\t", uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    (2, *([None] * 15)),
    (
        3, 32767, -1, decimal.Decimal("-0.001"), -1e300, -2.25, False, "", "",
        dt.date(2038, 1, 20), dt.time(0, 0), dt.datetime(1970, 1, 1, 0, 0, 1),
        dt.datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC), [], b"",
        uuid.UUID("00000000-0000-0000-0000-000000000000"),
    ),
]  # fmt: skip


def source_value(family: str, column: str, value: Any) -> Any:
    """A round-trip value as the family's driver takes it."""
    if value is None:
        return None
    if column == "js":
        return psycopg.types.json.Jsonb(value) if family == "pg" else json.dumps(value)
    if column == "uid" and family != "pg":
        return str(value)
    if column == "tstz" and family != "pg":
        return (
            value.astimezone(UTC).replace(tzinfo=None)
            if family == "my"
            else (value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "))
        )
    if family == "lite":
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def normalised(column: str, value: Any) -> Any:
    """A value read back from any family, in one comparable form."""
    if value is None:
        return None
    if column == "flag":
        return bool(int(value)) if isinstance(value, str) else bool(value)
    if column == "num":
        return decimal.Decimal(str(value))
    if column in ("f64", "f32"):
        return float(value)
    if column == "d" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if column == "tm":
        if isinstance(value, dt.timedelta):
            return (dt.datetime.min + value).time()
        return dt.time.fromisoformat(value) if isinstance(value, str) else value
    if column in ("ts", "tstz"):
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if column == "js":
        return json.loads(value) if isinstance(value, str | bytes) else value
    if column == "bin":
        return bytes(value)
    if column == "uid":
        return uuid.UUID(str(value))
    return value
