"""Opening the source and target databases from the URLs named in the config."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from heartbeat_client import Redactor
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from database_task._errors import SyncError, redacted_error

Family = Literal["postgresql", "mysql", "sqlite"]

# The drivers this image carries; a URL naming another driver of the same database
# is pointed at these, since that is what is installed.
_DRIVER_BY_FAMILY: dict[str, str] = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite+pysqlite",
}


@dataclass
class Endpoint:
    """One side of the sync: its URL (password masked when shown) and engine."""

    role: str
    url_env: str
    url: sa.URL
    engine: sa.Engine
    family: Family
    redactor: Redactor

    def describe(self) -> str:
        return f"{self.role} database ({self.url_env}={self.url.render_as_string()})"

    def quote(self, name: str) -> str:
        """``schema.table`` or ``column`` quoted for this database where needed."""
        preparer = self.engine.dialect.identifier_preparer
        return ".".join(preparer.quote(part) for part in name.split("."))

    @contextlib.contextmanager
    def driver_connection(self) -> Iterator[Any]:
        """A plain driver connection (psycopg, pymysql or sqlite3), set to UTC and
        explicit transactions; closed on exit."""
        try:
            pooled = self.engine.raw_connection()
        except Exception as exc:
            raise redacted_error(
                self.redactor,
                f"cannot connect to the {self.describe()}; check the URL in {self.url_env}",
                exc,
            ) from None
        try:
            conn = pooled.driver_connection
            _prepare_session(self.family, conn)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                pooled.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _prepare_session(family: Family, conn: Any) -> None:
    if family == "postgresql":
        from psycopg.types.string import TextLoader

        # JSON stays text: it is copied, not interpreted.
        for name in ("json", "jsonb"):
            conn.adapters.register_loader(name, TextLoader)
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()
    elif family == "mysql":
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
        conn.commit()
    else:
        conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves


def open_endpoint(
    role: str, url_env: str, environ: Mapping[str, str], redactor: Redactor
) -> Endpoint:
    """The database behind the URL in ``environ[url_env]``; errors name the variable.

    The URL and its password are added to ``redactor`` before anything can show them."""
    field = f"database_config.{role}.url_env"
    raw = environ.get(url_env, "")
    if not raw.strip():
        raise SyncError(
            f"{field}: environment variable {url_env} is not set or empty; "
            "pass the SQLAlchemy URL of the database in it"
        )
    redactor.add(raw)  # the whole URL is a secret until we know which part is the password
    try:
        url = sa.make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise SyncError(
            f"{field}: environment variable {url_env} does not hold an SQLAlchemy URL "
            "(expected e.g. postgresql+psycopg://user:password@host:5432/dbname)"
        ) from None
    redactor.add(url.password if isinstance(url.password, str) else None)
    backend = url.get_backend_name()
    if backend not in _DRIVER_BY_FAMILY:
        raise SyncError(
            f"{field}: the URL in {url_env} is for {backend!r}; "
            "supported are postgresql, mysql, mariadb and sqlite"
        )
    url = url.set(drivername=_DRIVER_BY_FAMILY[backend])
    family: Family = "mysql" if backend in ("mysql", "mariadb") else backend  # type: ignore[assignment]
    try:
        engine = sa.create_engine(url, poolclass=NullPool)
    except (ArgumentError, NoSuchModuleError, TypeError, ValueError) as exc:
        raise redacted_error(redactor, f"{field}: cannot use the URL in {url_env}", exc) from None
    return Endpoint(role, url_env, url, engine, family, redactor)
