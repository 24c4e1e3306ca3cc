"""Which Postgres server the benchmark uses, and the databases it makes on it.

The same order as the test suite: EDUSTAT_WAREHOUSE_DSN's server, else the local 127.0.0.1:5432
if it answers, else the embedded server under the bench's work folder. Every full-night
repetition gets its own database, cloned from the history-loaded one with CREATE DATABASE …
TEMPLATE (a file copy on the server: seconds instead of a second untimed night).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg

from edustat.warehouse import embedded
from edustat.warehouse.connection import with_database


def _local_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


def server_dsn(work: Path) -> tuple[str, str]:
    """(DSN of the server's `postgres` database, where it came from)."""
    if os.environ.get("EDUSTAT_WAREHOUSE_DSN"):
        dsn = with_database(os.environ["EDUSTAT_WAREHOUSE_DSN"], "postgres")
        return dsn, "EDUSTAT_WAREHOUSE_DSN"
    if _local_answers():
        return "postgresql://postgres@127.0.0.1:5432/postgres", "local 127.0.0.1:5432"
    return embedded.ensure_running(work / "pgdata"), f"embedded ({work / 'pgdata'})"


def server_version(server: str) -> str:
    with psycopg.connect(server) as conn:
        return str(conn.execute("SELECT version()").fetchone()[0])


def database_exists(server: str, name: str) -> bool:
    with psycopg.connect(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def database_comment(server: str, name: str) -> str | None:
    with psycopg.connect(server) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,)).fetchone()
    return row[0] if row else None


def create_database(server: str, name: str, template: str | None = None) -> str:
    """A new database (dropping one of that name first); returns its DSN."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(server, name)


def set_comment(server: str, name: str, comment: str) -> None:
    literal = "'" + comment.replace("'", "''") + "'"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'COMMENT ON DATABASE "{name}" IS {literal}')


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def databases_like(server: str, prefix: str) -> list[str]:
    with psycopg.connect(server) as conn:
        return [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1",
            (prefix.replace("_", r"\_") + "%",))]
