"""The sync: check every table, then copy them one after the other."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from task_config.database import DatabaseConfig

from database_task._endpoints import Endpoint, open_endpoint
from database_task._errors import Scrubber, SyncError
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
) -> dict[str, Any]:
    """Copy every table of ``config`` from source to target; the result_data.

    Raises SyncError (message without secrets, ``partial`` result attached).
    """
    scrub = Scrubber()
    source = open_endpoint("source", config.source.url_env, env, scrub)
    target = open_endpoint("target", config.target.url_env, env, scrub)
    result: dict[str, Any] = {"status": "running", "tables": {}, "rows_read": 0}
    try:
        for endpoint in (source, target):
            with endpoint.driver_connection():
                pass
        plans = []
        for index, spec in enumerate(config.tables):
            try:
                plans.append(plan_table(index, spec, source, target, config.create_target_tables))
            except SyncError:
                raise
            except Exception as exc:
                raise scrub.error(f"database_config.tables[{index}] ({spec.name})", exc) from None
        progress = Progress(reporter, [p.spec.target_table for p in plans])
        for plan in plans:
            if should_stop():
                break
            try:
                table_result = _sync_table(
                    plan, source, target, config.batch_size, progress, should_stop
                )
            except SyncError:
                progress.finish(plan.spec.target_table, "failed")
                raise
            except Exception as exc:
                progress.finish(plan.spec.target_table, "failed")
                raise scrub.error(
                    f"table {plan.spec.name} -> {plan.spec.target_table}", exc
                ) from None
            result["tables"][plan.spec.target_table] = table_result
            result["rows_read"] += table_result["rows_read"]
            if table_result["status"] == "cancelled":
                break
        cancelled = should_stop() or any(
            t["status"] == "cancelled" for t in result["tables"].values()
        )
        result["status"] = "cancelled" if cancelled else "completed"
        result["tables_synced"] = sum(
            1 for t in result["tables"].values() if t["status"] == "completed"
        )
        return result
    except SyncError as exc:
        result["status"] = "failed"
        exc.partial = result
        raise
    finally:
        source.dispose()
        target.dispose()


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


def _sync_table(
    plan: TablePlan,
    source: Endpoint,
    target: Endpoint,
    batch_size: int,
    progress: Progress,
    should_stop: StopCheck,
) -> dict[str, Any]:
    spec = plan.spec
    name = spec.target_table
    started = time.monotonic()
    path = choose_path(source, target, plan)
    incremental = spec.mode == "incremental"
    _create_target(target, plan)
    with source.driver_connection() as sconn, target.driver_connection() as tconn:
        before: Watermark | None = None
        if spec.cursor_column:
            ensure_state_table(target, tconn)
            before = read_watermark(target, tconn, name, spec.name, spec.cursor_column)
        query = SourceQuery(source, plan, before if incremental else None)
        begin_snapshot(source, sconn)
        count_sql, count_params = query.count()
        estimate = int((fetch_one(sconn, count_sql, count_params) or (0,))[0])
        full_mark = None
        if not incremental and spec.cursor_column:
            row = fetch_one(sconn, query.last_mark(), [])
            full_mark = Watermark(row) if row else None
        progress.start(name, estimate, path)

        pipe = source.family == target.family == "postgresql"
        binary = pipe and plan.identical_types
        staging = side_name(name, "new")
        sink: _Sink
        if incremental:
            sink = (
                PgUpsert(target, tconn, plan, binary)
                if target.family == "postgresql"
                else RowsUpsert(target, tconn, plan)
            )
        else:
            create_staging(target, tconn, name, staging)
            sink = (
                PgCopyLoad(target, tconn, plan, staging, binary)
                if target.family == "postgresql"
                else RowsLoad(target, tconn, plan, staging)
            )
        if pipe:
            batches = pg_copy_batches(sconn, query, batch_size, binary)
        elif source.family == "mysql" and target.family == "postgresql":
            batches = mysql_copy_text_batches(sconn, query, batch_size)
        else:
            batches = row_batches(source, sconn, query, batch_size)
        counts = {"read": 0, "inserted": 0, "updated": 0, "batches": 0}
        after = before
        cancelled = False
        try:
            for batch in batches:
                inserted, updated, mark = sink.write(batch)
                counts["read"] += batch.count
                counts["inserted"] += inserted
                counts["updated"] += updated
                counts["batches"] += 1
                after = mark or after
                progress.advance(
                    name, counts["read"], counts["batches"], time.monotonic() - started
                )
                if should_stop():
                    cancelled = True
                    break
        except BaseException as exc:
            sink.abort(exc)
            if not incremental:
                drop_table(target, tconn, staging)
            raise
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
            end_snapshot(source, sconn)

        if not incremental:
            if cancelled:
                # A full run swaps all or nothing: the target keeps its old rows.
                sink.abort(SyncError("cancelled"))
                drop_table(target, tconn, staging)
            else:
                sink.finish()
                state_sql = write_watermark_sql(target)

                def save_full_mark(cur: Any) -> None:
                    if full_mark is not None and spec.cursor_column:
                        cur.execute(
                            state_sql,
                            watermark_params(
                                name, spec.name, spec.cursor_column, full_mark, counts["read"]
                            ),
                        )

                swap_in(target, tconn, name, staging, save_full_mark)
                after = full_mark
        else:
            sink.finish()

    seconds = time.monotonic() - started
    status = "cancelled" if cancelled else "completed"
    progress.finish(name, status)
    mark_columns = query.mark_columns
    return {
        "source": spec.name,
        "target": name,
        "mode": spec.mode,
        "path": path,
        "status": status,
        "rows_estimated": estimate,
        "rows_read": counts["read"],
        "rows_inserted": counts["inserted"],
        "rows_updated": counts["updated"],
        "batches": counts["batches"],
        "seconds": round(seconds, 3),
        "rows_per_second": round(counts["read"] / seconds) if seconds > 0 else None,
        "watermark_before": before.shown(mark_columns) if before else None,
        "watermark_after": after.shown(mark_columns) if after else None,
    }
