"""Writing batches into the target: staging loads for full runs, upserts for incremental
runs (each batch and its watermark in one transaction)."""

from __future__ import annotations

from typing import Any

from database_task._endpoints import Endpoint
from database_task._plan import TablePlan
from database_task._sources import PG_BINARY_HEADER, Batch
from database_task._state import Watermark, watermark_params, write_watermark_sql

# Rows per `key IN (...)` lookup when counting which upserted rows already existed.
_LOOKUP_CHUNK = 500


def _params(endpoint: Endpoint, count: int) -> str:
    return ", ".join(["?" if endpoint.family == "sqlite" else "%s"] * count)


def _begin(endpoint: Endpoint, conn: Any) -> None:
    if endpoint.family == "sqlite":
        conn.execute("BEGIN")


def _commit(endpoint: Endpoint, conn: Any) -> None:
    conn.execute("COMMIT") if endpoint.family == "sqlite" else conn.commit()


def rollback(endpoint: Endpoint, conn: Any) -> None:
    if endpoint.family == "sqlite":
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    else:
        conn.rollback()


class PgCopyLoad:
    """Full run into a PostgreSQL staging table: one COPY FROM for the whole stream."""

    def __init__(self, target: Endpoint, conn: Any, plan: TablePlan, table: str, binary: bool):
        self.conn = conn
        cols = ", ".join(target.quote(c) for c in plan.column_names)
        fmt = "binary" if binary else "text"
        self.binary = binary
        self._context = conn.cursor().copy(
            f"COPY {target.quote(table)} ({cols}) FROM STDIN (FORMAT {fmt})"
        )
        self._copy = self._context.__enter__()
        if binary:
            self._copy.write(PG_BINARY_HEADER)

    def write(self, batch: Batch) -> tuple[int, int, Watermark | None]:
        if batch.payload is not None:
            self._copy.write(batch.payload)
        else:
            for row in batch.rows or ():
                self._copy.write_row(row)
        return batch.count, 0, None

    def finish(self) -> None:
        self._context.__exit__(None, None, None)
        self.conn.commit()

    def abort(self, exc: BaseException) -> None:
        try:
            self._context.__exit__(type(exc), exc, None)
        except Exception:  # noqa: S110 - the COPY is being abandoned anyway
            pass
        self.conn.rollback()


class RowsLoad:
    """Full run into a MySQL or SQLite staging table: multi-row INSERTs per batch."""

    def __init__(self, target: Endpoint, conn: Any, plan: TablePlan, table: str):
        self.target, self.conn = target, conn
        cols = ", ".join(target.quote(c) for c in plan.column_names)
        self.sql = (
            f"INSERT INTO {target.quote(table)} ({cols}) "
            f"VALUES ({_params(target, len(plan.columns))})"
        )

    def write(self, batch: Batch) -> tuple[int, int, Watermark | None]:
        _begin(self.target, self.conn)
        cur = self.conn.cursor()
        cur.executemany(self.sql, batch.rows or [])
        cur.close()
        _commit(self.target, self.conn)
        return batch.count, 0, None

    def finish(self) -> None:
        pass

    def abort(self, exc: BaseException) -> None:
        rollback(self.target, self.conn)


class _Upsert:
    """Shared part of incremental writes: the state row committed with the batch."""

    def __init__(self, target: Endpoint, conn: Any, plan: TablePlan):
        self.target, self.conn, self.plan = target, conn, plan
        self.table = plan.spec.target_table
        self.cursor_column = plan.spec.cursor_column or ""
        self.state_sql = write_watermark_sql(target)

    def _save_mark(self, cur: Any, mark: Watermark, rows: int) -> None:
        cur.execute(
            self.state_sql,
            watermark_params(self.table, self.plan.spec.name, self.cursor_column, mark, rows),
        )

    def finish(self) -> None:
        pass

    def abort(self, exc: BaseException) -> None:
        rollback(self.target, self.conn)


class PgUpsert(_Upsert):
    """Incremental run into PostgreSQL: COPY the batch into a temporary table, then one
    INSERT ... ON CONFLICT DO UPDATE from it; `xmax = 0` tells new rows from updated."""

    TEMP = "_dbsync_batch"

    def __init__(self, target: Endpoint, conn: Any, plan: TablePlan, binary: bool):
        super().__init__(target, conn, plan)
        q = target.quote
        cols = ", ".join(q(c) for c in plan.column_names)
        key = ", ".join(q(k) for k in plan.key)
        updates = [f"{q(c)} = EXCLUDED.{q(c)}" for c in plan.column_names if c not in plan.key]
        action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        self.binary = binary
        self.copy_sql = (
            f"COPY {self.TEMP} ({cols}) FROM STDIN (FORMAT {'binary' if binary else 'text'})"
        )
        self.upsert_sql = (
            f"WITH up AS (INSERT INTO {q(self.table)} ({cols}) SELECT {cols} FROM {self.TEMP} "
            f"ON CONFLICT ({key}) {action} RETURNING (xmax = 0) AS fresh) "
            "SELECT count(*) FILTER (WHERE fresh), count(*) FROM up"
        )
        mark_cols = ", ".join(q(c) for c in (self.cursor_column, *plan.key))
        order = ", ".join(f"{q(c)} DESC" for c in (self.cursor_column, *plan.key))
        self.mark_sql = f"SELECT {mark_cols} FROM {self.TEMP} ORDER BY {order} LIMIT 1"
        conn.execute(f"DROP TABLE IF EXISTS {self.TEMP}")
        conn.execute(
            f"CREATE TEMP TABLE {self.TEMP} ON COMMIT DELETE ROWS AS "
            f"SELECT {cols} FROM {q(self.table)} WITH NO DATA"
        )
        conn.commit()

    def write(self, batch: Batch) -> tuple[int, int, Watermark | None]:
        cur = self.conn.cursor()
        with cur.copy(self.copy_sql) as copy:
            if batch.payload is not None:
                if self.binary:
                    copy.write(PG_BINARY_HEADER)
                copy.write(batch.payload)
            else:
                for row in batch.rows or ():
                    copy.write_row(row)
        mark = batch.last
        if mark is None:
            # Raw COPY data: the batch is a run of rows in (cursor, key) order, so its
            # newest row is its last one.
            cur.execute(self.mark_sql)
            mark = Watermark(tuple(cur.fetchone()))
        cur.execute(self.upsert_sql)
        fresh, total = cur.fetchone()
        self._save_mark(cur, mark, batch.count)
        self.conn.commit()
        # Rows an ON CONFLICT ... DO NOTHING skipped count as neither.
        return int(fresh), int(total) - int(fresh), mark


class RowsUpsert(_Upsert):
    """Incremental run into MySQL (ON DUPLICATE KEY UPDATE) or SQLite (ON CONFLICT)."""

    def __init__(self, target: Endpoint, conn: Any, plan: TablePlan):
        super().__init__(target, conn, plan)
        q = target.quote
        names = plan.column_names
        cols = ", ".join(q(c) for c in names)
        others = [c for c in names if c not in plan.key]
        insert = f"INSERT INTO {q(self.table)} ({cols}) VALUES ({_params(target, len(names))})"
        if target.family == "mysql":
            sets = [f"{q(c)} = VALUES({q(c)})" for c in others] or [
                f"{q(plan.key[0])} = {q(plan.key[0])}"
            ]
            self.sql = f"{insert} ON DUPLICATE KEY UPDATE {', '.join(sets)}"
        else:
            action = (
                "DO UPDATE SET " + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in others)
                if others
                else "DO NOTHING"
            )
            keys = ", ".join(q(k) for k in plan.key)
            self.sql = f"{insert} ON CONFLICT ({keys}) {action}"
        self.key_indexes = [names.index(k) for k in plan.key]
        key_sql = ", ".join(q(k) for k in plan.key)
        self.lookup = f"SELECT count(*) FROM {q(self.table)} WHERE ({key_sql}) IN "
        self.one = f"({_params(target, len(plan.key))})"

    def _existing(self, cur: Any, rows: list[tuple[Any, ...]]) -> int:
        found = 0
        for start in range(0, len(rows), _LOOKUP_CHUNK):
            chunk = rows[start : start + _LOOKUP_CHUNK]
            params = [row[i] for row in chunk for i in self.key_indexes]
            cur.execute(self.lookup + "(" + ", ".join([self.one] * len(chunk)) + ")", params)
            found += int(cur.fetchone()[0])
        return found

    def write(self, batch: Batch) -> tuple[int, int, Watermark | None]:
        rows = batch.rows or []
        _begin(self.target, self.conn)
        cur = self.conn.cursor()
        existing = self._existing(cur, rows)
        cur.executemany(self.sql, rows)
        assert batch.last is not None  # row sources always know their last row
        self._save_mark(cur, batch.last, batch.count)
        cur.close()
        _commit(self.target, self.conn)
        return len(rows) - existing, existing, batch.last
