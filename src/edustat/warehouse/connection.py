"""Where the warehouse is, and connections to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from edustat.config import Settings
from edustat.warehouse import embedded

EMBEDDED_DATABASE = "edustat"


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


def create_database_if_missing(server_dsn: str, database: str) -> None:
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def resolve_dsn(settings: Settings) -> str:
    """The warehouse DSN: EDUSTAT_WAREHOUSE_DSN, else the embedded server (started if needed)."""
    if settings.warehouse_dsn:
        return settings.warehouse_dsn
    server = embedded.ensure_running(settings.pgdata)
    create_database_if_missing(server, EMBEDDED_DATABASE)
    return with_database(server, EMBEDDED_DATABASE)


@contextmanager
def connect(dsn: str, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=autocommit) as conn:
        yield conn


def dsn_parts(dsn: str) -> dict[str, str]:
    """host/port/user/password/dbname for tools that do not take a URI (dbt profiles)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return {
        "host": str(info.get("host") or "127.0.0.1"),
        "port": str(info.get("port") or "5432"),
        "user": str(info.get("user") or "postgres"),
        "password": str(info.get("password") or ""),
        "dbname": str(info.get("dbname") or "postgres"),
    }
