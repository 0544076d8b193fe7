"""The watermark table in the target: where each incremental table stopped.

It is written in the same transaction as the batch it covers, so after a crash the
target's rows and its watermark always agree.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from dataclasses import dataclass
from typing import Any

from database_task._endpoints import Endpoint

STATE_TABLE = "_dbsync_state"

_CREATE = """CREATE TABLE IF NOT EXISTS {table} (
  target_table VARCHAR(255) NOT NULL PRIMARY KEY,
  source_table VARCHAR(255) NOT NULL,
  cursor_column VARCHAR(64) NOT NULL,
  watermark TEXT NOT NULL,
  rows_synced BIGINT NOT NULL,
  updated_at VARCHAR(40) NOT NULL
)"""


@dataclass(frozen=True)
class Watermark:
    """The (cursor, primary key...) of the last row synced; rows past it come next."""

    values: tuple[Any, ...]

    def to_json(self) -> str:
        return json.dumps([_tag(v) for v in self.values])

    @classmethod
    def from_json(cls, text: str) -> Watermark:
        return cls(tuple(_untag(item) for item in json.loads(text)))

    def shown(self, columns: tuple[str, ...]) -> dict[str, Any]:
        """For result_data: column -> JSON-friendly value."""
        return {c: _tag(v)[1] for c, v in zip(columns, self.values, strict=True)}


def _tag(value: Any) -> list[Any]:
    if value is None or isinstance(value, bool | int | float | str):
        return ["v", value]
    if isinstance(value, decimal.Decimal):
        return ["decimal", str(value)]
    if isinstance(value, dt.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    if isinstance(value, dt.time):
        return ["time", value.isoformat()]
    if isinstance(value, dt.timedelta):
        return ["timedelta", value.total_seconds()]
    if isinstance(value, uuid.UUID):
        return ["uuid", str(value)]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["bytes", bytes(value).hex()]
    return ["v", str(value)]


def _untag(item: list[Any]) -> Any:
    tag, value = item
    return {
        "v": lambda v: v,
        "decimal": decimal.Decimal,
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "timedelta": lambda v: dt.timedelta(seconds=v),
        "uuid": uuid.UUID,
        "bytes": bytes.fromhex,
    }[tag](value)


def _sql(endpoint: Endpoint, text: str) -> str:
    return text.replace("%s", "?") if endpoint.family == "sqlite" else text


def ensure_state_table(endpoint: Endpoint, conn: Any) -> None:
    cur = conn.cursor()
    if endpoint.family == "sqlite":
        cur.execute("BEGIN")
    cur.execute(_CREATE.format(table=endpoint.quote(STATE_TABLE)))
    conn.commit() if endpoint.family != "sqlite" else cur.execute("COMMIT")


def read_watermark(
    endpoint: Endpoint, conn: Any, target_table: str, source_table: str, cursor_column: str
) -> Watermark | None:
    """The stored watermark, or None when there is none for this source and cursor."""
    cur = conn.cursor()
    cur.execute(
        _sql(
            endpoint,
            f"SELECT source_table, cursor_column, watermark FROM {endpoint.quote(STATE_TABLE)} "
            "WHERE target_table = %s",
        ),
        (target_table,),
    )
    row = cur.fetchone()
    if endpoint.family == "postgresql":
        conn.commit()
    if row is None or row[0] != source_table or row[1] != cursor_column:
        return None
    return Watermark.from_json(row[2])


def write_watermark_sql(endpoint: Endpoint) -> str:
    """An upsert of one state row; params: target, source, cursor, watermark, rows, time.
    ``rows_synced`` adds up over runs."""
    table = endpoint.quote(STATE_TABLE)
    insert = (
        f"INSERT INTO {table} (target_table, source_table, cursor_column, watermark, "
        "rows_synced, updated_at) VALUES (%s, %s, %s, %s, %s, %s) "
    )
    if endpoint.family == "mysql":
        return insert + (
            "ON DUPLICATE KEY UPDATE source_table = VALUES(source_table), "
            "cursor_column = VALUES(cursor_column), watermark = VALUES(watermark), "
            "rows_synced = rows_synced + VALUES(rows_synced), updated_at = VALUES(updated_at)"
        )
    return _sql(
        endpoint,
        insert
        + (
            "ON CONFLICT (target_table) DO UPDATE SET source_table = excluded.source_table, "
            "cursor_column = excluded.cursor_column, watermark = excluded.watermark, "
            f"rows_synced = {table}.rows_synced + excluded.rows_synced, "
            "updated_at = excluded.updated_at"
        ),
    )


def watermark_params(
    target_table: str, source_table: str, cursor_column: str, mark: Watermark, rows: int
) -> tuple[Any, ...]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (target_table, source_table, cursor_column, mark.to_json(), rows, now)
