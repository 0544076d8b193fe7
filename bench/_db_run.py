"""One benchmark run in its own process, so its peak RSS is its own.

    python bench/_db_run.py sync '<database_config json>'
    python bench/_db_run.py naive-full SRC_URL TGT_URL TABLE
    python bench/_db_run.py naive-incremental SRC_URL TGT_URL TABLE CURSOR_ISO

Prints one JSON line: seconds (of the run itself, imports excluded: connecting,
checking the tables and copying are in), rows, peak_rss_mb, the sync's path.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from typing import Any

import sqlalchemy as sa
from database_task import sync
from sqlalchemy.dialects.postgresql import insert as pg_insert
from task_config.database import DatabaseConfig

BATCH = 10_000


def _sync(config_json: str) -> dict[str, Any]:

    config = DatabaseConfig.model_validate(json.loads(config_json))
    result = sync(config, os.environ, lambda progress: None, lambda: False)
    [table] = result["tables"].values()
    return {"rows": table["rows_read"], "path": table["path"]}


def _naive(src_url: str, tgt_url: str, table: str, since: str | None) -> dict[str, Any]:
    """What one writes first: SQLAlchemy Core, a streamed SELECT, executemany of
    INSERT (or INSERT ... ON CONFLICT for the incremental run) per batch."""
    src, tgt = sa.create_engine(src_url), sa.create_engine(tgt_url)
    source_table = sa.Table(table, sa.MetaData(), autoload_with=src)
    target_table = sa.Table(table, sa.MetaData(), autoload_with=tgt)
    query = sa.select(source_table)
    statement: Any = target_table.insert()
    if since is not None:
        query = query.where(source_table.c.updated_at > dt.datetime.fromisoformat(since))
        upsert = pg_insert(target_table)
        statement = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={c.name: upsert.excluded[c.name] for c in target_table.c if c.name != "id"},
        )
    rows = 0
    with src.connect() as read, tgt.connect() as write:
        result = read.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        for batch in result.partitions():
            write.execute(statement, [row._asdict() for row in batch])
            write.commit()
            rows += len(batch)
    return {"rows": rows, "path": "SQLAlchemy executemany"}


def main() -> None:
    started = time.perf_counter()
    kind = sys.argv[1]
    if kind == "sync":
        outcome = _sync(sys.argv[2])
    elif kind == "naive-full":
        outcome = _naive(sys.argv[2], sys.argv[3], sys.argv[4], None)
    else:
        outcome = _naive(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    outcome["seconds"] = time.perf_counter() - started
    outcome["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
