"""Full runs: a staging table beside the target, swapped in atomically when loaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from database_task._endpoints import Endpoint
from database_task._plan import split_name


def side_name(table: str, suffix: str) -> str:
    """``schema.orders`` -> ``schema.orders__dbsync_new`` (kept within 64 characters)."""
    schema, name = split_name(table)
    side = f"{name[:50]}__dbsync_{suffix}"
    return f"{schema}.{side}" if schema else side


def create_staging(target: Endpoint, conn: Any, table: str, staging: str) -> None:
    q = target.quote
    if target.family == "postgresql":
        conn.execute(f"DROP TABLE IF EXISTS {q(staging)}")
        conn.execute(f"CREATE TABLE {q(staging)} (LIKE {q(table)} INCLUDING ALL)")
        conn.commit()
    elif target.family == "mysql":
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {q(staging)}")
            cur.execute(f"CREATE TABLE {q(staging)} LIKE {q(table)}")
        conn.commit()
    else:
        schema, name = split_name(table)
        master = f"{q(schema)}.sqlite_master" if schema else "sqlite_master"
        (sql,) = conn.execute(
            f"SELECT sql FROM {master} WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        body = sql[sql.index("(") :]
        conn.execute(f"DROP TABLE IF EXISTS {q(staging)}")
        conn.execute(f"CREATE TABLE {q(staging)} {body}")


def drop_table(target: Endpoint, conn: Any, table: str) -> None:
    if target.family == "mysql":
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {target.quote(table)}")
    else:
        conn.execute(f"DROP TABLE IF EXISTS {target.quote(table)}")
    if target.family != "sqlite":
        conn.commit()


def swap_in(
    target: Endpoint, conn: Any, table: str, staging: str, before_commit: Callable[[Any], None]
) -> None:
    """Replace ``table`` by ``staging`` so readers see the old rows or the new, never a
    mix; ``before_commit(cursor)`` runs in the same transaction where the database
    allows (PostgreSQL and SQLite; MySQL commits a RENAME by itself)."""
    if target.family == "postgresql":
        _swap_postgresql(target, conn, table, staging, before_commit)
    elif target.family == "mysql":
        _swap_mysql(target, conn, table, staging, before_commit)
    else:
        _swap_sqlite(target, conn, table, staging, before_commit)


def _swap_postgresql(
    target: Endpoint, conn: Any, table: str, staging: str, before_commit: Callable[[Any], None]
) -> None:
    q = target.quote
    old = side_name(table, "old")
    _, table_name = split_name(table)
    _, old_name = split_name(old)
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {q(old)}")
    # Sequences of serial columns belong to the old table; hand them over first,
    # or dropping it would take them (and the new table's defaults) along.
    cur.execute(
        "SELECT attname, pg_get_serial_sequence(%s, attname) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (q(table), q(table)),
    )
    owned = [(col, seq) for col, seq in cur.fetchall() if seq]
    cur.execute(f"ALTER TABLE {q(table)} RENAME TO {q(old_name)}")
    cur.execute(f"ALTER TABLE {q(staging)} RENAME TO {q(table_name)}")
    for col, seq in owned:
        cur.execute(f"ALTER SEQUENCE {seq} OWNED BY {q(table)}.{q(col)}")
    cur.execute(f"DROP TABLE {q(old)}")
    # Copied rows carry their own ids: move each sequence past them, as a restore
    # would, so the next default does not collide.
    for col, seq in owned:
        cur.execute(
            f"SELECT setval(%s, COALESCE(max({q(col)}), 1), max({q(col)}) IS NOT NULL) "
            f"FROM {q(table)}",
            (seq,),
        )
    _rename_postgresql_indexes(target, cur, table, staging)
    before_commit(cur)
    conn.commit()


def _rename_postgresql_indexes(target: Endpoint, cur: Any, table: str, staging: str) -> None:
    """Indexes were named after the staging table; give them the usual names back."""
    q = target.quote
    schema, table_name = split_name(table)
    _, staging_name = split_name(staging)
    cur.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass",
        (q(table),),
    )
    for (index_name,) in cur.fetchall():
        if index_name.startswith(staging_name):
            renamed = table_name + index_name[len(staging_name) :]
            qualified = f"{schema}.{index_name}" if schema else index_name
            cur.execute(f"ALTER INDEX {q(qualified)} RENAME TO {q(renamed)}")


def _swap_mysql(
    target: Endpoint, conn: Any, table: str, staging: str, before_commit: Callable[[Any], None]
) -> None:
    q = target.quote
    old = side_name(table, "old")
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {q(old)}")
        cur.execute(f"RENAME TABLE {q(table)} TO {q(old)}, {q(staging)} TO {q(table)}")
        cur.execute(f"DROP TABLE {q(old)}")
        before_commit(cur)
    conn.commit()


def _swap_sqlite(
    target: Endpoint, conn: Any, table: str, staging: str, before_commit: Callable[[Any], None]
) -> None:
    q = target.quote
    old = side_name(table, "old")
    schema, table_name = split_name(table)
    _, old_name = split_name(old)
    master = f"{q(schema)}.sqlite_master" if schema else "sqlite_master"
    indexes = [
        sql
        for (sql,) in conn.execute(
            f"SELECT sql FROM {master} WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table_name,),
        )
    ]
    conn.execute("BEGIN")
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {q(old)}")
    cur.execute(f"ALTER TABLE {q(table)} RENAME TO {q(old_name)}")
    cur.execute(f"ALTER TABLE {q(staging)} RENAME TO {q(table_name)}")
    cur.execute(f"DROP TABLE {q(old)}")
    for sql in indexes:  # they named the old table; the name is the new one's now
        cur.execute(sql)
    before_commit(cur)
    conn.execute("COMMIT")
