"""`database_config` of the task config (docs/contracts/config.md).

```json
"database_config": {
  "source": {"url_env": "SOURCE_DB_URL"},
  "target": {"url_env": "TARGET_DB_URL"},
  "tables": [
    {"name": "orders", "mode": "incremental", "cursor_column": "updated_at",
     "primary_key": ["id"]},
    {"name": "public.customers", "target_name": "customers_copy", "mode": "full"}
  ],
  "batch_size": 10000,
  "create_target_tables": true
}
```
The URLs themselves (with their passwords) never appear in the config: only the
names of the environment variables that hold them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from task_config._base import StrictModel

# An SQL identifier we accept unquoted in a config: letters, digits, _ and $, not
# starting with a digit. Quoting is done by the sync, so case and keywords are fine.
_IDENT = r"[A-Za-z_][A-Za-z0-9_$]*"
# A table may be qualified by its schema (PostgreSQL) or database (MySQL).
TABLE_NAME_PATTERN = rf"^{_IDENT}(\.{_IDENT})?$"
COLUMN_NAME_PATTERN = rf"^{_IDENT}$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

SyncMode = Literal["full", "incremental"]


class DatabaseEndpoint(StrictModel):
    """One side of the sync: the environment variable holding its SQLAlchemy URL."""

    url_env: str = Field(
        min_length=1,
        max_length=200,
        pattern=ENV_NAME_PATTERN,
        description="name of the environment variable holding the SQLAlchemy URL",
    )


class TableSync(StrictModel):
    """One table to copy from the source to the target."""

    name: str = Field(min_length=1, max_length=129, pattern=TABLE_NAME_PATTERN)
    target_name: str | None = Field(
        default=None, min_length=1, max_length=129, pattern=TABLE_NAME_PATTERN
    )
    mode: SyncMode = "full"
    cursor_column: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=COLUMN_NAME_PATTERN
    )
    # None: use the source table's primary key.
    primary_key: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=16)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_name_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("primary_key")
    @classmethod
    def _valid_key_columns(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        for column in value:
            if not re.fullmatch(COLUMN_NAME_PATTERN, column) or len(column) > 64:
                raise ValueError(f"{column!r} is not a column name (letters, digits, _ and $)")
        if len(set(value)) != len(value):
            raise ValueError("lists a column twice")
        return value

    @model_validator(mode="after")
    def _incremental_needs_a_cursor(self) -> TableSync:
        if self.mode == "incremental" and self.cursor_column is None:
            raise ValueError(
                f"table {self.name!r}: mode 'incremental' needs cursor_column "
                "(a column that grows when a row changes, e.g. updated_at)"
            )
        return self

    @property
    def target_table(self) -> str:
        """The table written in the target."""
        return self.target_name or self.name


class DatabaseConfig(StrictModel):
    """`database_config`: copy tables from one database to another."""

    source: DatabaseEndpoint
    target: DatabaseEndpoint
    tables: list[TableSync] = Field(min_length=1, max_length=500)
    batch_size: int = Field(default=10_000, ge=1, le=1_000_000)
    create_target_tables: bool = True

    @model_validator(mode="after")
    def _distinct_targets(self) -> DatabaseConfig:
        seen: set[str] = set()
        for table in self.tables:
            key = table.target_table.lower()
            if key in seen:
                raise ValueError(
                    f"tables: two entries write target table {table.target_table!r}; "
                    "give one a different target_name"
                )
            seen.add(key)
        return self
