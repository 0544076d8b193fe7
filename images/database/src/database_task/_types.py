"""Column types between PostgreSQL, MySQL/MariaDB and SQLite.

A reflected column becomes a ``Kind`` (what its values are); a kind is rendered as a
column type of the target database, and values pass through small converters where
the drivers disagree (a MySQL BOOLEAN is a 0/1 integer, SQLite keeps dates as text).
Between two databases of the same family the source type is kept as it is.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class Kind:
    """What a column holds, independent of the database."""

    name: str  # int16 int32 int64 numeric float32 float64 bool varchar char text
    #            date time timestamp timestamptz json bytes uuid
    length: int | None = None
    precision: int | None = None
    scale: int | None = None


def kind_of(coltype: Any, family: str, json_column: bool = False) -> Kind | None:
    """The kind of a reflected column type, or None when it has no portable kind."""
    cls = type(coltype).__name__.upper()
    unsigned = bool(getattr(coltype, "unsigned", False))
    if json_column or isinstance(coltype, sa.JSON):
        return Kind("json")
    if isinstance(coltype, sa.Boolean) or (
        family == "mysql" and cls == "TINYINT" and getattr(coltype, "display_width", 0) == 1
    ):
        return Kind("bool")
    if isinstance(coltype, sa.Integer):
        if cls == "YEAR" or cls == "BIT":
            return None
        if isinstance(coltype, sa.BigInteger):
            return Kind("numeric", precision=20, scale=0) if unsigned else Kind("int64")
        if isinstance(coltype, sa.SmallInteger) or cls == "TINYINT":
            return Kind("int32") if unsigned and cls != "TINYINT" else Kind("int16")
        return Kind("int64") if unsigned else Kind("int32")
    if isinstance(coltype, sa.Float):
        single = isinstance(coltype, sa.REAL) or (cls == "FLOAT" and family == "mysql")
        precision = getattr(coltype, "precision", None)
        if single or (precision is not None and precision <= 24):
            return Kind("float32")
        return Kind("float64")
    if isinstance(coltype, sa.Numeric):
        return Kind("numeric", precision=coltype.precision, scale=coltype.scale)
    if isinstance(coltype, sa.DateTime):
        aware = bool(coltype.timezone) or (family == "mysql" and cls == "TIMESTAMP")
        return Kind("timestamptz" if aware else "timestamp")
    if isinstance(coltype, sa.Date):
        return Kind("date")
    if isinstance(coltype, sa.Time):
        return None if coltype.timezone else Kind("time")
    if isinstance(coltype, sa.Uuid):
        return Kind("uuid")
    # BLOB, BYTEA, VARBINARY...; MySQL's TINY/MEDIUM/LONGBLOB share only this base.
    if isinstance(coltype, sa.types._Binary):
        return Kind("bytes")
    if isinstance(coltype, (sa.Enum,)) or cls == "SET":
        return None
    if isinstance(coltype, sa.String):
        length = coltype.length
        if cls in ("CHAR", "NCHAR") and length:
            return Kind("char", length=length)
        if length:
            return Kind("varchar", length=length)
        return Kind("text")
    return None


def render(kind: Kind, family: str, in_key: bool) -> str:
    """The column type for ``kind`` in a ``family`` database. ``in_key``: the column is
    part of the primary key (MySQL cannot index an unbounded TEXT or BLOB)."""
    n, p, s, length = kind.name, kind.precision, kind.scale, kind.length
    if family == "postgresql":
        return {
            "int16": "smallint", "int32": "integer", "int64": "bigint",
            "numeric": f"numeric({p}, {s or 0})" if p else "numeric",
            "float32": "real", "float64": "double precision", "bool": "boolean",
            "varchar": f"varchar({length})", "char": f"char({length})", "text": "text",
            "date": "date", "time": "time", "timestamp": "timestamp",
            "timestamptz": "timestamptz", "json": "jsonb", "bytes": "bytea", "uuid": "uuid",
        }[n]  # fmt: skip
    if family == "mysql":
        if n == "varchar" and length and length > 16000:
            n = "text"
        if n == "char" and length and length > 255:
            n = "varchar"
        return {
            "int16": "SMALLINT", "int32": "INT", "int64": "BIGINT",
            "numeric": f"DECIMAL({p}, {s or 0})" if p else "DECIMAL(65, 30)",
            "float32": "FLOAT", "float64": "DOUBLE", "bool": "BOOLEAN",
            "varchar": f"VARCHAR({length})", "char": f"CHAR({length})",
            "text": "VARCHAR(768)" if in_key else "LONGTEXT",
            "date": "DATE", "time": "TIME(6)", "timestamp": "DATETIME(6)",
            "timestamptz": "DATETIME(6)", "json": "JSON",
            "bytes": "VARBINARY(768)" if in_key else "LONGBLOB", "uuid": "CHAR(36)",
        }[n]  # fmt: skip
    return {
        "int16": "INTEGER", "int32": "INTEGER", "int64": "BIGINT",
        "numeric": f"DECIMAL({p}, {s or 0})" if p else "DECIMAL",
        "float32": "REAL", "float64": "DOUBLE", "bool": "BOOLEAN",
        "varchar": f"VARCHAR({length})", "char": f"CHAR({length})", "text": "TEXT",
        "date": "DATE", "time": "TIME", "timestamp": "DATETIME", "timestamptz": "DATETIME",
        "json": "JSON", "bytes": "BLOB", "uuid": "CHAR(36)",
    }[n]  # fmt: skip


# Source side: driver values to the common form (bool, Decimal, date/time objects,
# aware datetimes for timestamptz, JSON as text).
def _mysql_time(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return (dt.datetime.min + value).time()
    return value


def _as_utc(value: Any) -> Any:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _sqlite_decimal(value: Any) -> Any:
    return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))


def _parse(parser: Callable[[str], Any]) -> Converter:
    def convert(value: Any) -> Any:
        return parser(value) if isinstance(value, str) else value

    return convert


def _sqlite_bool(value: Any) -> Any:
    return bool(int(value)) if isinstance(value, str) else bool(value)


_FROM_SOURCE: dict[tuple[str, str], Converter] = {
    ("mysql", "bool"): bool,
    ("mysql", "time"): _mysql_time,
    ("mysql", "timestamptz"): _as_utc,  # MySQL TIMESTAMP, read with time_zone +00:00
    ("sqlite", "bool"): _sqlite_bool,
    ("sqlite", "numeric"): _sqlite_decimal,
    ("sqlite", "float32"): float,
    ("sqlite", "float64"): float,
    ("sqlite", "date"): _parse(dt.date.fromisoformat),
    ("sqlite", "time"): _parse(dt.time.fromisoformat),
    ("sqlite", "timestamp"): _parse(dt.datetime.fromisoformat),
    ("sqlite", "timestamptz"): lambda v: _as_utc(_parse(dt.datetime.fromisoformat)(v)),
    ("sqlite", "uuid"): _parse(uuid.UUID),
}


# Target side: the common form to what the target's driver binds.
def _utc_naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _sqlite_datetime(value: Any) -> Any:
    return _utc_naive(value).isoformat(sep=" ", timespec="microseconds")


def _isoformat(value: Any) -> Any:
    return value.isoformat()


_TO_TARGET: dict[tuple[str, str], Converter] = {
    ("mysql", "timestamptz"): _utc_naive,
    ("mysql", "uuid"): str,
    ("sqlite", "bool"): int,
    ("sqlite", "numeric"): str,
    ("sqlite", "date"): _isoformat,
    ("sqlite", "time"): _isoformat,
    ("sqlite", "timestamp"): _sqlite_datetime,
    ("sqlite", "timestamptz"): _sqlite_datetime,
    ("sqlite", "uuid"): str,
}


def converter(kind: Kind, source_family: str, target_family: str) -> Converter | None:
    """The function a non-NULL value of ``kind`` goes through, or None for none."""
    first = _FROM_SOURCE.get((source_family, kind.name))
    second = _TO_TARGET.get((target_family, kind.name))
    if first and second:
        return lambda value: second(first(value))
    return first or second


def convert_rows(
    rows: list[tuple[Any, ...]], converters: list[tuple[int, Converter]]
) -> list[tuple[Any, ...]]:
    """Rows with each converter applied to its column's non-NULL values."""
    if not converters:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        out.append(tuple(values))
    return out
