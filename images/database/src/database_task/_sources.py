"""Reading the source: one snapshot, streamed with a server-side cursor in batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from database_task._endpoints import Endpoint
from database_task._mysql_wire import raw_rows
from database_task._plan import TablePlan
from database_task._state import Watermark
from database_task._types import convert_rows

# PostgreSQL's binary COPY starts with this 19-byte header and ends with a 2-byte
# trailer; batches are cut between rows, so each COPY FROM gets its own header.
PG_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
PG_BINARY_TRAILER = b"\xff\xff"


@dataclass
class Batch:
    count: int
    rows: list[tuple[Any, ...]] | None = None  # converted for the target
    payload: bytes | None = None  # raw COPY data (no binary header)
    last: Watermark | None = None  # (cursor, key...) of the last row, when known


def _placeholder(endpoint: Endpoint) -> str:
    return "?" if endpoint.family == "sqlite" else "%s"


class SourceQuery:
    """The SELECT of one table, with the filter and order an incremental run needs."""

    def __init__(self, endpoint: Endpoint, plan: TablePlan, after: Watermark | None) -> None:
        self.endpoint = endpoint
        self.plan = plan
        self.after = after
        q = endpoint.quote
        self.table = q(plan.spec.name)
        self.columns_sql = ", ".join(q(c) for c in plan.column_names)
        self.incremental = plan.spec.mode == "incremental"
        self.mark_columns: tuple[str, ...] = (
            (plan.spec.cursor_column, *plan.key) if plan.spec.cursor_column else ()
        )
        self.mark_indexes = [plan.column_names.index(c) for c in self.mark_columns]

    def where(self) -> tuple[str, list[Any]]:
        if not self.incremental:
            return "", []
        q, ph = self.endpoint.quote, _placeholder(self.endpoint)
        names = [q(c) for c in self.mark_columns]
        clause = f" WHERE {names[0]} IS NOT NULL"
        if self.after is None:
            return clause, []
        values = list(self.after.values)
        if self.endpoint.family != "mysql":
            row = ", ".join(names)
            return f"{clause} AND ({row}) > ({', '.join(ph for _ in names)})", values
        # MySQL/MariaDB do not use an index for row comparisons; spell it out, with a
        # leading >= on the cursor the index can use.
        expr, params = f"{names[-1]} > {ph}", [values[-1]]
        for name, value in zip(reversed(names[:-1]), reversed(values[:-1]), strict=True):
            expr = f"{name} > {ph} OR ({name} = {ph} AND ({expr}))"
            params = [value, value, *params]
        return f"{clause} AND {names[0]} >= {ph} AND ({expr})", [values[0], *params]

    def order(self, descending: bool = False) -> str:
        if not self.mark_columns:
            return ""
        direction = " DESC" if descending else ""
        return " ORDER BY " + ", ".join(
            self.endpoint.quote(c) + direction for c in self.mark_columns
        )

    def select(self) -> tuple[str, list[Any]]:
        where, params = self.where()
        order = self.order() if self.incremental else ""
        return f"SELECT {self.columns_sql} FROM {self.table}{where}{order}", params

    def count(self) -> tuple[str, list[Any]]:
        where, params = self.where()
        return f"SELECT count(*) FROM {self.table}{where}", params

    def last_mark(self) -> str:
        """The (cursor, key) of the newest row: a full load's watermark."""
        cols = ", ".join(self.endpoint.quote(c) for c in self.mark_columns)
        return (
            f"SELECT {cols} FROM {self.table} WHERE {self.endpoint.quote(self.mark_columns[0])}"
            f" IS NOT NULL{self.order(descending=True)} LIMIT 1"
        )


def begin_snapshot(endpoint: Endpoint, conn: Any) -> None:
    """Everything read for a table comes from one consistent snapshot."""
    if endpoint.family == "postgresql":
        import psycopg

        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
    elif endpoint.family == "mysql":
        with conn.cursor() as cur:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    else:
        conn.execute("BEGIN")


def end_snapshot(endpoint: Endpoint, conn: Any) -> None:
    if endpoint.family == "sqlite":
        conn.execute("COMMIT") if conn.in_transaction else None
    else:
        conn.rollback()


def fetch_one(conn: Any, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        row = cur.fetchone()
        return tuple(row) if row is not None else None
    finally:
        cur.close()


def row_batches(
    endpoint: Endpoint, conn: Any, query: SourceQuery, batch_size: int
) -> Iterator[Batch]:
    """Batches of converted rows through a server-side cursor."""
    sql, params = query.select()
    if endpoint.family == "postgresql":
        cur = conn.cursor(name="dbsync_read")
        cur.itersize = batch_size
    elif endpoint.family == "mysql":
        import pymysql.cursors

        cur = conn.cursor(pymysql.cursors.SSCursor)
    else:
        cur = conn.cursor()
    converters = query.plan.converters()
    marks = query.mark_indexes if query.incremental else []
    try:
        cur.execute(sql, params)
        while rows := cur.fetchmany(batch_size):
            last = Watermark(tuple(rows[-1][i] for i in marks)) if marks else None
            converted = convert_rows([tuple(r) for r in rows], converters)
            yield Batch(count=len(rows), rows=converted, last=last)
    finally:
        cur.close()


def pg_copy_batches(
    conn: Any, query: SourceQuery, batch_size: int, binary: bool
) -> Iterator[Batch]:
    """Batches of raw COPY data: PostgreSQL sends one message per row."""
    sql, params = query.select()
    fmt = "binary" if binary else "text"
    cur = conn.cursor()
    with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT {fmt})", params or None) as copy:
        chunk: list[bytes] = []
        first = True
        for data in copy:
            message = bytes(data)
            if binary:
                if first:
                    message = message[len(PG_BINARY_HEADER) :]
                    first = False
                if message == PG_BINARY_TRAILER or not message:
                    continue
            chunk.append(message)
            if len(chunk) >= batch_size:
                yield Batch(count=len(chunk), payload=b"".join(chunk))
                chunk = []
        if chunk:
            yield Batch(count=len(chunk), payload=b"".join(chunk))


def _mysql_copy_text_expr(q: str, kind_name: str | None) -> str:
    r"""A MySQL expression rendering column ``q`` as one field of PostgreSQL's COPY
    text format: ``\N`` for NULL, backslash escapes in strings, ``\\x..`` for bytes."""
    null = "'\\\\N'"
    if kind_name == "bool":
        return f"IF({q} IS NULL, {null}, IF({q}, 't', 'f'))"
    if kind_name == "bytes":
        return f"IFNULL(CONCAT('\\\\\\\\x', HEX({q})), {null})"
    if kind_name in ("varchar", "char", "text", "json"):
        escaped = f"CONVERT({q} USING utf8mb4)"
        for raw, escape in (
            ("\\\\", "\\\\\\\\"),
            ("\\t", "\\\\t"),
            ("\\n", "\\\\n"),
            ("\\r", "\\\\r"),
        ):
            escaped = f"REPLACE({escaped}, '{raw}', '{escape}')"
        return f"IFNULL({escaped}, {null})"
    if kind_name == "timestamptz":
        return f"IFNULL(CONCAT(CAST({q} AS CHAR), '+00'), {null})"
    return f"IFNULL(CAST({q} AS CHAR), {null})"


def mysql_copy_text_batches(conn: Any, query: SourceQuery, batch_size: int) -> Iterator[Batch]:
    """Batches of PostgreSQL COPY text lines formatted by the MySQL server itself: one
    value per row crosses the wire and Python never parses a column."""
    import pymysql.cursors

    q = query.endpoint.quote
    fields = [
        _mysql_copy_text_expr(q(c.name), c.kind.name if c.kind else None)
        for c in query.plan.columns
    ]
    line = f"CAST(CONCAT_WS('\\t', {', '.join(fields)}) AS BINARY)"
    marks = ", ".join(q(c) for c in query.mark_columns) if query.incremental else ""
    where, params = query.where()
    order = query.order() if query.incremental else ""
    sql = f"SELECT {line}{', ' + marks if marks else ''} FROM {query.table}{where}{order}"
    with conn.cursor() as cur:
        # The escapes above are written for backslash-escaping string literals.
        cur.execute("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')")
    cur = conn.cursor(pymysql.cursors.SSCursor)
    try:
        cur.execute(sql, params)
        lines: list[bytes] = []
        row: list[bytes | None] = []
        for row in raw_rows(cur):
            lines.append(row[0] or b"")
            if len(lines) >= batch_size:
                yield _text_batch(lines, row, bool(marks))
                lines = []
        if lines:
            yield _text_batch(lines, row, bool(marks))
    finally:
        cur.close()


def _text_batch(lines: list[bytes], last_row: list[bytes | None], marked: bool) -> Batch:
    # The watermark stays in MySQL's own text form: it is only ever compared with the
    # same MySQL columns again, and MySQL reads its own literals exactly.
    last = Watermark(tuple((v or b"").decode() for v in last_row[1:])) if marked else None
    return Batch(count=len(lines), payload=b"\n".join(lines) + b"\n", last=last)
