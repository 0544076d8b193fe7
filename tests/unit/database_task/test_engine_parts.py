"""Pure parts of the sync: type kinds and rendering, converters, watermarks, the
incremental filter, secret scrubbing, the raw MySQL row parser, progress."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from database_task._endpoints import Endpoint, open_endpoint
from database_task._errors import SyncError, redacted_error
from database_task._mysql_wire import _fields
from database_task._plan import ColumnPlan, TablePlan
from database_task._progress import Progress
from database_task._sources import SourceQuery
from database_task._state import Watermark
from database_task._types import Kind, convert_rows, converter, kind_of, render
from heartbeat_client import Redactor
from heartbeat_contract import states
from sqlalchemy.dialects import mysql, postgresql
from task_config.database import TableSync


@pytest.mark.parametrize(
    ("coltype", "family", "kind"),
    [
        (postgresql.TIMESTAMP(timezone=True), "postgresql", Kind("timestamptz")),
        (mysql.TIMESTAMP(), "mysql", Kind("timestamptz")),
        (mysql.DATETIME(fsp=6), "mysql", Kind("timestamp")),
        (mysql.TINYINT(display_width=1), "mysql", Kind("bool")),
        (mysql.TINYINT(), "mysql", Kind("int16")),
        (mysql.INTEGER(unsigned=True), "mysql", Kind("int64")),
        (mysql.BIGINT(unsigned=True), "mysql", Kind("numeric", precision=20, scale=0)),
        (mysql.LONGBLOB(), "mysql", Kind("bytes")),
        (mysql.LONGTEXT(), "mysql", Kind("text")),
        (postgresql.NUMERIC(12, 2), "postgresql", Kind("numeric", precision=12, scale=2)),
        (postgresql.REAL(), "postgresql", Kind("float32")),
        (postgresql.DOUBLE_PRECISION(), "postgresql", Kind("float64")),
        (postgresql.JSONB(), "postgresql", Kind("json")),
        (sa.VARCHAR(40), "sqlite", Kind("varchar", length=40)),
        (sa.CHAR(3), "postgresql", Kind("char", length=3)),
        (postgresql.UUID(), "postgresql", Kind("uuid")),
        (postgresql.INTERVAL(), "postgresql", None),
        (postgresql.ARRAY(sa.Integer()), "postgresql", None),
        (sa.Enum("a", "b"), "postgresql", None),
        (sa.types.NullType(), "sqlite", None),
    ],
)
def test_kinds_of_reflected_types(coltype: Any, family: str, kind: Kind | None) -> None:
    assert kind_of(coltype, family) == kind


def test_mariadb_json_is_found_by_its_check() -> None:
    assert kind_of(mysql.LONGTEXT(), "mysql", json_column=True) == Kind("json")


def test_rendering_keeps_precision_and_bounds_mysql_keys() -> None:
    numeric = Kind("numeric", precision=14, scale=3)
    assert render(numeric, "postgresql", False) == "numeric(14, 3)"
    assert render(numeric, "mysql", False) == "DECIMAL(14, 3)"
    assert render(Kind("text"), "mysql", in_key=True) == "VARCHAR(768)"
    assert render(Kind("text"), "mysql", in_key=False) == "LONGTEXT"
    assert render(Kind("timestamptz"), "postgresql", False) == "timestamptz"
    assert render(Kind("json"), "sqlite", False) == "JSON"


def test_converters_between_families() -> None:
    aware = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    to_mysql = converter(Kind("timestamptz"), "postgresql", "mysql")
    assert to_mysql is not None and to_mysql(aware) == dt.datetime(2024, 1, 1, 10)
    from_mysql = converter(Kind("time"), "mysql", "postgresql")
    assert from_mysql is not None and from_mysql(dt.timedelta(hours=1, seconds=2)) == dt.time(
        1, 0, 2
    )
    lite = converter(Kind("numeric"), "sqlite", "postgresql")
    assert lite is not None and lite(1.25) == decimal.Decimal("1.25")
    assert converter(Kind("int64"), "postgresql", "mysql") is None
    rows = convert_rows([(1, 0), (2, None)], [(1, bool)])
    assert rows == [(1, False), (2, None)]


def test_watermarks_survive_json_with_their_types() -> None:
    mark = Watermark(
        (dt.datetime(2024, 1, 1, 1, 2, 3, 4, tzinfo=dt.UTC), decimal.Decimal("1.50"), 7,
         "k", b"\x00", uuid.UUID(int=5), dt.date(2020, 2, 2))
    )  # fmt: skip
    assert Watermark.from_json(mark.to_json()) == mark
    assert mark.shown(("a", "b", "c", "d", "e", "f", "g"))["b"] == "1.50"


def _endpoint(family: str, redactor: Redactor) -> Endpoint:
    urls = {"postgresql": "postgresql://u@h/d", "mysql": "mysql://u@h/d", "sqlite": "sqlite://"}
    return open_endpoint("source", "URL", {"URL": urls[family]}, redactor)


def _plan(key: tuple[str, ...]) -> TablePlan:
    spec = TableSync(name="t", mode="incremental", cursor_column="ts", primary_key=key)
    names = ["ts", *key, "v"]
    columns = [ColumnPlan(n, None, "x", "x", True) for n in names]
    return TablePlan(0, spec, columns, key, target_exists=True)


def test_incremental_filter_orders_by_cursor_then_key() -> None:
    mark = Watermark((10, 1, 2))
    pg = SourceQuery(_endpoint("postgresql", Redactor()), _plan(("a", "b")), mark)
    sql, params = pg.select()
    assert "WHERE ts IS NOT NULL AND (ts, a, b) > (%s, %s, %s) ORDER BY ts, a, b" in sql
    assert params == [10, 1, 2]
    my = SourceQuery(_endpoint("mysql", Redactor()), _plan(("a", "b")), mark)
    sql, params = my.select()
    assert "ts >= %s AND (ts > %s OR (ts = %s AND (a > %s OR (a = %s AND (b > %s)))))" in sql
    assert params == [10, 10, 10, 1, 1, 2]
    lite = SourceQuery(_endpoint("sqlite", Redactor()), _plan(("a",)), None)
    assert lite.select() == ("SELECT ts, a, v FROM t WHERE ts IS NOT NULL ORDER BY ts, a", [])


def test_redacted_errors_hide_plain_and_url_encoded_passwords() -> None:
    redactor = Redactor()
    endpoint = open_endpoint("target", "T", {"T": "postgresql://me:p%40ss%2Fw@db/x"}, redactor)
    assert "p@ss/w" not in endpoint.describe() and "***" in endpoint.describe()
    error = redacted_error(
        redactor, "connecting", RuntimeError("auth failed for p@ss/w (p%40ss%2Fw)\nmore")
    )
    assert isinstance(error, SyncError)
    assert "p@ss" not in str(error) and "p%40ss" not in str(error)
    assert str(error) == "connecting: RuntimeError: auth failed for *** (***) | more"


def test_unknown_backend_is_refused_naming_the_variable() -> None:
    with pytest.raises(SyncError, match="URL in T is for 'oracle'"):
        open_endpoint("target", "T", {"T": "oracle://u:p@h/d"}, Redactor())


def test_raw_row_packets_are_split_into_fields() -> None:
    long_value = b"x" * 300
    packet = b"\x03abc" + b"\xfb" + b"\xfc" + (300).to_bytes(2, "little") + long_value + b"\x00"
    assert _fields(packet) == [b"abc", None, long_value, b""]


def test_progress_is_throttled_but_start_and_finish_always_go_out() -> None:
    sent: list[dict[str, Any]] = []
    progress = Progress(sent.append, ["a", "b"])
    progress.start("a", 100, "path")
    for rows in range(10, 110, 10):
        progress.advance("a", rows, rows // 10, 1.0)
    progress.finish("a", states.COMPLETED)
    # Start and finish always; of the ten quick advances at most a stray one.
    assert 2 <= len(sent) <= 3
    assert sent[-1]["tables"]["a"]["rows_read"] == 100
    assert sent[-1]["tables_done"] == 1 and sent[-1]["tables"]["b"]["status"] == "pending"
    assert sent[0]["tables"]["a"]["rows_estimated"] == 100
