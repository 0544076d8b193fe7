"""The sync: check every table, then copy them one after the other."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from heartbeat_client import Redactor
from heartbeat_contract import states
from task_config.database import DatabaseConfig

from database_task._endpoints import Endpoint, open_endpoint
from database_task._errors import SyncError, redacted_error
from database_task._plan import TablePlan, plan_table
from database_task._progress import Progress, Reporter
from database_task._sinks import PgCopyLoad, PgUpsert, RowsLoad, RowsUpsert
from database_task._sources import (
    Batch,
    SourceQuery,
    begin_snapshot,
    end_snapshot,
    fetch_one,
    mysql_copy_text_batches,
    pg_copy_batches,
    row_batches,
)
from database_task._state import (
    Watermark,
    ensure_state_table,
    read_watermark,
    watermark_params,
    write_watermark_sql,
)
from database_task._swap import create_staging, drop_table, side_name, swap_in

log = logging.getLogger("database_task")

StopCheck = Callable[[], bool]


class _Sink(Protocol):
    def write(self, batch: Batch) -> tuple[int, int, Watermark | None]: ...
    def finish(self) -> None: ...
    def abort(self, exc: BaseException) -> None: ...


def choose_path(source: Endpoint, target: Endpoint, plan: TablePlan) -> str:
    """The fastest honest way for this pair; named in the result."""
    if source.family == target.family == "postgresql":
        fmt = "binary" if plan.identical_types else "text"
        return f"postgresql COPY TO (FORMAT {fmt}) piped into COPY FROM"
    reader = f"{source.family} server-side cursor"
    if source.family == "mysql" and target.family == "postgresql":
        return (
            "mysql server-side cursor, rows formatted as COPY text by MySQL -> postgresql COPY FROM"
        )
    if target.family == "postgresql":
        return f"{reader} -> postgresql COPY FROM (text rows)"
    if plan.spec.mode == "incremental":
        verb = "ON DUPLICATE KEY UPDATE" if target.family == "mysql" else "ON CONFLICT"
        return f"{reader} -> {target.family} executemany INSERT ... {verb}"
    return f"{reader} -> {target.family} executemany INSERT"


def sync(
    config: DatabaseConfig,
    env: Mapping[str, str],
    reporter: Reporter,
    should_stop: StopCheck,
    *,
    redactor: Redactor | None = None,
) -> dict[str, Any]:
    """Copy every table of ``config`` from source to target; the result_data.

    The database URLs and passwords are added to ``redactor`` (the run's, so its log
    filter hides them too; a new one when None). Raises SyncError (message without
    secrets, ``partial`` result attached).
    """
    redactor = redactor if redactor is not None else Redactor()
    source = open_endpoint("source", config.source.url_env, env, redactor)
    target = open_endpoint("target", config.target.url_env, env, redactor)
    result: dict[str, Any] = {"status": states.RUNNING, "tables": {}, "rows_read": 0}
    try:
        for endpoint in (source, target):
            with endpoint.driver_connection():
                pass
        plans = _plan_tables(config, source, target, redactor)
        progress = Progress(reporter, [p.spec.target_table for p in plans])
        copier = _TableCopier(source, target, config.batch_size, progress, should_stop)
        for plan in plans:
            if should_stop():
                break
            table_result = _copy_table(copier, plan, redactor)
            result["tables"][plan.spec.target_table] = table_result
            result["rows_read"] += table_result["rows_read"]
            if table_result["status"] == states.CANCELLED:
                break
        _conclude(result, cancelled=should_stop())
        return result
    except SyncError as exc:
        result["status"] = states.FAILED
        exc.partial = result
        raise
    finally:
        source.dispose()
        target.dispose()


def _plan_tables(
    config: DatabaseConfig, source: Endpoint, target: Endpoint, redactor: Redactor
) -> list[TablePlan]:
    """Every table checked before any row moves; the first problem is the error."""
    plans = []
    for index, spec in enumerate(config.tables):
        try:
            plans.append(plan_table(index, spec, source, target, config.create_target_tables))
        except SyncError:
            raise
        except Exception as exc:
            raise redacted_error(
                redactor, f"database_config.tables[{index}] ({spec.name})", exc
            ) from None
    return plans


def _copy_table(copier: _TableCopier, plan: TablePlan, redactor: Redactor) -> dict[str, Any]:
    """One table's result; a failure marks the table failed and becomes a SyncError."""
    try:
        return copier.copy(plan)
    except SyncError:
        copier.progress.finish(plan.spec.target_table, states.FAILED)
        raise
    except Exception as exc:
        copier.progress.finish(plan.spec.target_table, states.FAILED)
        raise redacted_error(
            redactor, f"table {plan.spec.name} -> {plan.spec.target_table}", exc
        ) from None


def _conclude(result: dict[str, Any], *, cancelled: bool) -> None:
    """The run's status and count of tables synced, from the tables' results."""
    tables = result["tables"].values()
    cancelled = cancelled or any(t["status"] == states.CANCELLED for t in tables)
    result["status"] = states.CANCELLED if cancelled else states.COMPLETED
    result["tables_synced"] = sum(1 for t in tables if t["status"] == states.COMPLETED)


def _create_target(target: Endpoint, plan: TablePlan) -> None:
    if plan.create_sql is None:
        return
    log.info("creating target table %s", plan.spec.target_table)
    with target.driver_connection() as conn:
        if target.family == "mysql":
            with conn.cursor() as cur:
                cur.execute(plan.create_sql)
        else:
            conn.execute(plan.create_sql)
        if target.family != "sqlite":
            conn.commit()
    plan.create_sql = None
    plan.target_exists = True


@dataclass
class _Start:
    """Where a table stands before its copy: its watermarks and row estimate."""

    query: SourceQuery
    before: Watermark | None  # the watermark kept in the target
    full_mark: Watermark | None  # a full run's new watermark: the source's last row
    estimate: int


@dataclass
class _Copied:
    """What the batches of one table did."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    batches: int = 0
    after: Watermark | None = None
    cancelled: bool = False


class _TableCopier:
    """Copies one table at a time: read where it stands, copy the batches, then put
    them in place (a full run swaps a staging table in, an incremental run commits
    with each batch)."""

    def __init__(
        self,
        source: Endpoint,
        target: Endpoint,
        batch_size: int,
        progress: Progress,
        should_stop: StopCheck,
    ) -> None:
        self.source, self.target = source, target
        self.batch_size = batch_size
        self.progress = progress
        self.should_stop = should_stop

    def copy(self, plan: TablePlan) -> dict[str, Any]:
        name = plan.spec.target_table
        started = time.monotonic()
        path = choose_path(self.source, self.target, plan)
        incremental = plan.spec.mode == "incremental"
        _create_target(self.target, plan)
        with self.source.driver_connection() as sconn, self.target.driver_connection() as tconn:
            start = self._start(plan, sconn, tconn)
            self.progress.start(name, start.estimate, path)
            staging = side_name(name, "new")
            sink = self._open_sink(plan, tconn, staging)
            copied = self._copy_batches(plan, sconn, tconn, start, sink, staging, started)
            if incremental:
                sink.finish()
            else:
                self._put_in_place(plan, tconn, sink, staging, start.full_mark, copied)
        seconds = time.monotonic() - started
        status = states.CANCELLED if copied.cancelled else states.COMPLETED
        self.progress.finish(name, status)
        return _table_result(plan, path, status, seconds, start, copied)

    def _start(self, plan: TablePlan, sconn: Any, tconn: Any) -> _Start:
        """The target's watermark, then the source's snapshot, row count and last mark."""
        spec, source = plan.spec, self.source
        incremental = spec.mode == "incremental"
        before: Watermark | None = None
        if spec.cursor_column:
            ensure_state_table(self.target, tconn)
            before = read_watermark(
                self.target, tconn, spec.target_table, spec.name, spec.cursor_column
            )
        query = SourceQuery(source, plan, before if incremental else None)
        begin_snapshot(source, sconn)
        count_sql, count_params = query.count()
        estimate = int((fetch_one(sconn, count_sql, count_params) or (0,))[0])
        full_mark = None
        if not incremental and spec.cursor_column:
            row = fetch_one(sconn, query.last_mark(), [])
            full_mark = Watermark(row) if row else None
        return _Start(query, before, full_mark, estimate)

    def _binary(self, plan: TablePlan) -> bool:
        """PostgreSQL to PostgreSQL with identical types: binary COPY is safe."""
        pipe = self.source.family == self.target.family == "postgresql"
        return pipe and plan.identical_types

    def _open_sink(self, plan: TablePlan, tconn: Any, staging: str) -> _Sink:
        target, binary = self.target, self._binary(plan)
        if plan.spec.mode == "incremental":
            if target.family == "postgresql":
                return PgUpsert(target, tconn, plan, binary)
            return RowsUpsert(target, tconn, plan)
        create_staging(target, tconn, plan.spec.target_table, staging)
        if target.family == "postgresql":
            return PgCopyLoad(target, tconn, plan, staging, binary)
        return RowsLoad(target, tconn, plan, staging)

    def _batches(self, plan: TablePlan, sconn: Any, query: SourceQuery) -> Iterator[Batch]:
        source, target = self.source, self.target
        if source.family == target.family == "postgresql":
            return pg_copy_batches(sconn, query, self.batch_size, self._binary(plan))
        if source.family == "mysql" and target.family == "postgresql":
            return mysql_copy_text_batches(sconn, query, self.batch_size)
        return row_batches(source, sconn, query, self.batch_size)

    def _copy_batches(
        self,
        plan: TablePlan,
        sconn: Any,
        tconn: Any,
        start: _Start,
        sink: _Sink,
        staging: str,
        started: float,
    ) -> _Copied:
        """Every batch into the sink, up to a stop request at a batch boundary."""
        name = plan.spec.target_table
        batches = self._batches(plan, sconn, start.query)
        copied = _Copied(after=start.before)
        try:
            for batch in batches:
                inserted, updated, mark = sink.write(batch)
                copied.read += batch.count
                copied.inserted += inserted
                copied.updated += updated
                copied.batches += 1
                copied.after = mark or copied.after
                elapsed = time.monotonic() - started
                self.progress.advance(name, copied.read, copied.batches, elapsed)
                if self.should_stop():
                    copied.cancelled = True
                    break
        except BaseException as exc:
            sink.abort(exc)
            if plan.spec.mode != "incremental":
                drop_table(self.target, tconn, staging)
            raise
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
            end_snapshot(self.source, sconn)
        return copied

    def _put_in_place(
        self,
        plan: TablePlan,
        tconn: Any,
        sink: _Sink,
        staging: str,
        full_mark: Watermark | None,
        copied: _Copied,
    ) -> None:
        """A full run: swap the staging table in with its watermark, or, when stopped,
        drop it (all or nothing: the target keeps its old rows)."""
        target, spec = self.target, plan.spec
        if copied.cancelled:
            sink.abort(SyncError(states.CANCELLED))
            drop_table(target, tconn, staging)
            return
        sink.finish()
        state_sql = write_watermark_sql(target)

        def save_full_mark(cur: Any) -> None:
            if full_mark is not None and spec.cursor_column:
                cur.execute(
                    state_sql,
                    watermark_params(
                        spec.target_table, spec.name, spec.cursor_column, full_mark, copied.read
                    ),
                )

        swap_in(target, tconn, spec.target_table, staging, save_full_mark)
        copied.after = full_mark


def _table_result(
    plan: TablePlan, path: str, status: str, seconds: float, start: _Start, copied: _Copied
) -> dict[str, Any]:
    spec, before, after = plan.spec, start.before, copied.after
    mark_columns = start.query.mark_columns
    return {
        "source": spec.name,
        "target": spec.target_table,
        "mode": spec.mode,
        "path": path,
        "status": status,
        "rows_estimated": start.estimate,
        "rows_read": copied.read,
        "rows_inserted": copied.inserted,
        "rows_updated": copied.updated,
        "batches": copied.batches,
        "seconds": round(seconds, 3),
        "rows_per_second": round(copied.read / seconds) if seconds > 0 else None,
        "watermark_before": before.shown(mark_columns) if before else None,
        "watermark_after": after.shown(mark_columns) if after else None,
    }
