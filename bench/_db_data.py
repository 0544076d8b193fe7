"""Benchmark data: N rows of 10 mixed columns in PostgreSQL and MariaDB, made server-side."""

from __future__ import annotations

import psycopg
import pymysql

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
MYSQL_HOST = "127.0.0.1"

PG_TABLE_DDL = """
CREATE TABLE {name} (
    id bigint PRIMARY KEY,
    qty integer NOT NULL,
    price numeric(12, 2),
    score double precision,
    label varchar(64) NOT NULL,
    note text,
    active boolean NOT NULL,
    born date,
    updated_at timestamp NOT NULL,
    payload jsonb
)"""

PG_FILL = """
INSERT INTO {name}
SELECT g, g % 1000, (g % 100000) / 100.0, g * 0.001, 'label-' || g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || md5(g::text) END,
       g % 2 = 0, DATE '2000-01-01' + (g % 9000),
       TIMESTAMP '2024-01-01' + g * INTERVAL '1 second',
       jsonb_build_object('k', g, 'tag', 'x' || (g % 10))
FROM generate_series(1, {rows}) AS g"""

MYSQL_TABLE_DDL = """
CREATE TABLE {name} (
    id BIGINT PRIMARY KEY,
    qty INT NOT NULL,
    price DECIMAL(12, 2),
    score DOUBLE,
    label VARCHAR(64) NOT NULL,
    note TEXT,
    active BOOLEAN NOT NULL,
    born DATE,
    updated_at DATETIME(6) NOT NULL,
    payload JSON
)"""

MYSQL_FILL = """
INSERT INTO {name}
SELECT seq, seq % 1000, (seq % 100000) / 100.0, seq * 0.001, CONCAT('label-', seq),
       IF(seq % 7 = 0, NULL, CONCAT('note ', MD5(seq))),
       seq % 2 = 0, DATE('2000-01-01') + INTERVAL (seq % 9000) DAY,
       TIMESTAMP('2024-01-01') + INTERVAL seq SECOND,
       JSON_OBJECT('k', seq, 'tag', CONCAT('x', seq % 10))
FROM seq_1_to_{rows}"""


def pg_recreate_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_dsn(database: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={database}"


def pg_url(database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


def pg_make_table(database: str, name: str, rows: int) -> None:
    with psycopg.connect(pg_dsn(database), autocommit=True) as conn:
        conn.execute(PG_TABLE_DDL.format(name=name))  # type: ignore[arg-type]
        conn.execute(PG_FILL.format(name=name, rows=rows))  # type: ignore[arg-type]
        conn.execute(f"VACUUM ANALYZE {name}")  # type: ignore[arg-type]


def mysql_connect(database: str | None = None) -> pymysql.connections.Connection:  # type: ignore[type-arg]
    return pymysql.connect(
        host=MYSQL_HOST, user="root", password="", database=database, autocommit=True
    )


def mysql_recreate_database(name: str) -> None:
    with mysql_connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


def mysql_drop_database(name: str) -> None:
    with mysql_connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def mysql_url(database: str) -> str:
    return f"mysql+pymysql://root@127.0.0.1:3306/{database}?charset=utf8mb4"


def mysql_make_table(database: str, name: str, rows: int) -> None:
    with mysql_connect(database) as conn, conn.cursor() as cur:
        cur.execute(MYSQL_TABLE_DDL.format(name=name))
        cur.execute(MYSQL_FILL.format(name=name, rows=rows))
        cur.execute(f"ANALYZE TABLE {name}")
