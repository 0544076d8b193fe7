"""Checking every table before any row moves: columns, types, keys, target tables.

Everything a user can get wrong (a missing table, an unmappable column, a missing
key) fails here, at start, naming the table and column.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from task_config.database import TableSync

from database_task._endpoints import Endpoint
from database_task._errors import SyncError
from database_task._types import Converter, Kind, converter, kind_of, render


@dataclass
class ColumnPlan:
    name: str
    kind: Kind | None  # None between databases of the same family: type kept as is
    source_type: str
    target_type: str
    nullable: bool
    convert: Converter | None = None


@dataclass
class TablePlan:
    index: int
    spec: TableSync
    columns: list[ColumnPlan]
    key: tuple[str, ...]
    target_exists: bool
    # PostgreSQL to PostgreSQL with identical column types: binary COPY is safe.
    identical_types: bool = False
    create_sql: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def field(self) -> str:
        return f"database_config.tables[{self.index}]"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def converters(self) -> list[tuple[int, Converter]]:
        return [(i, c.convert) for i, c in enumerate(self.columns) if c.convert is not None]


def split_name(name: str) -> tuple[str | None, str]:
    schema, _, table = name.rpartition(".")
    return schema or None, table


def _inspect_table(endpoint: Endpoint, name: str) -> dict[str, Any] | None:
    """Columns and key of ``name`` through SQLAlchemy reflection; None if it is missing."""
    schema, table = split_name(name)
    with endpoint.engine.connect() as conn, warnings.catch_warnings():
        # Types SQLAlchemy does not know come back as NullType with a warning; we
        # report them ourselves when they matter.
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        inspector = sa.inspect(conn)
        if not inspector.has_table(table, schema=schema):
            return None
        columns = inspector.get_columns(table, schema=schema)
        key = list(inspector.get_pk_constraint(table, schema=schema)["constrained_columns"])
        unique_sets = [tuple(key)] if key else []
        for index in inspector.get_indexes(table, schema=schema):
            if index.get("unique"):
                unique_sets.append(tuple(c for c in index["column_names"] if c))
        for constraint in inspector.get_unique_constraints(table, schema=schema):
            unique_sets.append(tuple(constraint["column_names"]))
        native_types = _native_types(endpoint, conn, schema, table)
        json_columns = _mariadb_json_columns(endpoint, conn, schema, table)
    return {
        "columns": columns,
        "key": key,
        "unique_sets": unique_sets,
        "native_types": native_types,
        "json_columns": json_columns,
    }


def _native_types(
    endpoint: Endpoint, conn: sa.Connection, schema: str | None, table: str
) -> dict[str, str]:
    """Column types as the database itself spells them (kept between equal families)."""
    if endpoint.family == "postgresql":
        qualified = endpoint.quote(f"{schema}.{table}" if schema else table)
        rows = conn.exec_driver_sql(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %(rel)s::regclass AND attnum > 0 AND NOT attisdropped",
            {"rel": qualified},
        )
    elif endpoint.family == "mysql":
        rows = conn.execute(
            sa.text(
                "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
            ),
            {"schema": schema, "table": table},
        )
    else:
        prefix = f"{endpoint.quote(schema)}." if schema else ""
        rows = conn.exec_driver_sql(
            f"SELECT name, type FROM {prefix}pragma_table_info(?)", (table,)
        )
    return {str(name): str(type_) for name, type_ in rows}


def _mariadb_json_columns(
    endpoint: Endpoint, conn: sa.Connection, schema: str | None, table: str
) -> set[str]:
    """MariaDB's JSON is LONGTEXT with a json_valid() check: find those columns."""
    if endpoint.family != "mysql" or not conn.dialect._is_mariadb:  # type: ignore[attr-defined]
        return set()
    rows = conn.execute(
        sa.text(
            "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME = :table"
        ),
        {"schema": schema, "table": table},
    )
    found = set()
    for (clause,) in rows:
        match = re.fullmatch(r"\s*json_valid\(`([^`]+)`\)\s*", str(clause))
        if match:
            found.add(match.group(1))
    return found


def plan_table(
    index: int, spec: TableSync, source: Endpoint, target: Endpoint, create: bool
) -> TablePlan:
    where = f"database_config.tables[{index}]"
    src = _inspect_table(source, spec.name)
    if src is None:
        raise SyncError(
            f"{where}.name: table {spec.name!r} not found in the {source.describe()}; "
            "check the name (schema.table where needed)"
        )
    names = [str(c["name"]) for c in src["columns"]]
    key = tuple(spec.primary_key or src["key"])
    _check_key_columns(where, spec, names, key)
    columns = _plan_columns(where, spec, src, source, target, key)
    same_family = source.family == target.family
    plan = TablePlan(index, spec, columns, key, target_exists=False)
    tgt = _inspect_table(target, spec.target_table)
    if tgt is None:
        if not create:
            raise SyncError(
                f"{where}: table {spec.target_table!r} does not exist in the "
                f"{target.describe()}; create it or set create_target_tables: true"
            )
        plan.create_sql = create_table_sql(target, spec.target_table, columns, key)
        plan.identical_types = same_family
        return plan

    plan.target_exists = True
    _check_target_table(where, spec, tgt, names, key)
    plan.identical_types = same_family and all(
        tgt["native_types"][c.name] == c.source_type for c in columns
    )
    return plan


def _check_key_columns(
    where: str, spec: TableSync, names: list[str], key: tuple[str, ...]
) -> None:
    """The key and cursor columns exist in the source; an incremental run has a key."""
    for column in key + ((spec.cursor_column,) if spec.cursor_column else ()):
        if column not in names:
            raise SyncError(
                f"{where}: column {column!r} is not in source table {spec.name!r} "
                f"(its columns: {', '.join(names)})"
            )
    if spec.mode == "incremental" and not key:
        raise SyncError(
            f"{where}.primary_key: source table {spec.name!r} has no primary key; "
            "name the columns that identify a row in primary_key"
        )


def _plan_columns(
    where: str,
    spec: TableSync,
    src: dict[str, Any],
    source: Endpoint,
    target: Endpoint,
    key: tuple[str, ...],
) -> list[ColumnPlan]:
    """Each source column's type in the target and its converter, or the column that
    has no equivalent there."""
    same_family = source.family == target.family
    columns = []
    for col in src["columns"]:
        name = str(col["name"])
        native = src["native_types"].get(name, str(col["type"]))
        kind = kind_of(col["type"], source.family, name in src["json_columns"])
        if same_family:
            target_type = native
        elif kind is None:
            raise SyncError(
                f"{where}: column {spec.name}.{name} has type {native} which has no "
                f"equivalent in {target.family}; sync it to a {source.family} database or "
                "leave it out (sync a view without it)"
            )
        else:
            target_type = render(kind, target.family, name in key)
        convert = (
            None if same_family or kind is None else converter(kind, source.family, target.family)
        )
        columns.append(ColumnPlan(name, kind, native, target_type, bool(col["nullable"]), convert))
    return columns


def _check_target_table(
    where: str, spec: TableSync, tgt: dict[str, Any], names: list[str], key: tuple[str, ...]
) -> None:
    """An existing target has every source column, and the key an upsert needs."""
    missing = [n for n in names if n not in tgt["native_types"]]
    if missing:
        raise SyncError(
            f"{where}: target table {spec.target_table!r} lacks column(s) "
            f"{', '.join(missing)} of the source; add them or drop the target table and "
            "let create_target_tables make it"
        )
    if spec.mode == "incremental" and not any(set(u) == set(key) for u in tgt["unique_sets"]):
        raise SyncError(
            f"{where}: target table {spec.target_table!r} has no primary key or unique "
            f"index on ({', '.join(key)}), which incremental upserts need; add one"
        )


def create_table_sql(
    target: Endpoint, name: str, columns: list[ColumnPlan], key: tuple[str, ...]
) -> str:
    parts = [
        f"{target.quote(c.name)} {c.target_type}{'' if c.nullable else ' NOT NULL'}"
        for c in columns
    ]
    if key:
        parts.append(f"PRIMARY KEY ({', '.join(target.quote(k) for k in key)})")
    return f"CREATE TABLE {target.quote(name)} (\n  " + ",\n  ".join(parts) + "\n)"
