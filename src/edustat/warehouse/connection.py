"""Where the warehouse is, and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg

from edustat.config import Settings
from edustat.warehouse import embedded

EMBEDDED_DATABASE = "edustat"
T = TypeVar("T")


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be reached or refuses the login; str() is the one line to show."""


class NoWarehouseYet(WarehouseUnavailable):
    """The embedded warehouse has no database yet (nothing ever ran): nothing to read."""


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
            # The embedded cluster is the platform's own: the ministries' role reaches the
            # warehouse database only (bootstrap grants CONNECT there), never the others.
            for other in ("postgres", "template1"):
                conn.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{other}" FROM PUBLIC')


def resolve_dsn(settings: Settings, create: bool = True) -> str:
    """The warehouse DSN: EDUSTAT_WAREHOUSE_DSN, else the embedded server (started if needed;
    its database created only when `create`: read-only commands change nothing)."""
    if settings.warehouse_dsn:
        return settings.warehouse_dsn
    try:
        server = embedded.ensure_running(settings.pgdata, settings.secrets_dir)
    except (embedded.EmbeddedPostgresError, OSError, psycopg.Error) as exc:
        raise WarehouseUnavailable(str(exc).splitlines()[0]) from exc
    if create:
        guard(lambda: create_database_if_missing(server, EMBEDDED_DATABASE), server)
    elif not guard(lambda: _database_exists(server, EMBEDDED_DATABASE), server):
        raise NoWarehouseYet("尚无数据仓库 no warehouse yet: run `edustat run` (or `edustat demo`)"
                             " first")
    return with_database(server, EMBEDDED_DATABASE)


def _database_exists(server_dsn: str, database: str) -> bool:
    with psycopg.connect(server_dsn) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (database,)).fetchone() is not None


@contextmanager
def connect(dsn: str, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=autocommit) as conn:
        yield conn


def dsn_parts(dsn: str) -> dict[str, str]:
    """host/port/user/password/dbname for tools that do not take a URI (dbt profiles); the
    password may come from the DSN's passfile (the embedded warehouse)."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    password = str(info.get("password") or "")
    if not password and info.get("passfile") and Path(str(info["passfile"])).is_file():
        password = embedded.passfile_password(Path(str(info["passfile"])))
    return {
        "host": str(info.get("host") or "127.0.0.1"),
        "port": str(info.get("port") or "5432"),
        "user": str(info.get("user") or "postgres"),
        "password": password,
        "dbname": str(info.get("dbname") or "postgres"),
    }


def redact(dsn: str) -> str:
    """The DSN with any password replaced by ***, for messages and logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def describe_failure(dsn: str, exc: BaseException) -> str:
    """One line: where the warehouse was expected, what went wrong, what to check."""
    try:
        parts = dsn_parts(dsn)
    except Exception:
        parts = {"host": "?", "port": "?", "user": "?", "dbname": "?"}
    where = f"{parts['host']}:{parts['port']} (database {parts['dbname']}, user {parts['user']})"
    reason = " ".join(str(exc).split())
    reason = reason.split("connection failed: ")[-1][:200] or type(exc).__name__
    return (f"无法连接数据仓库 cannot reach the warehouse at {where}: {reason}. 请检查 check: "
            "is Postgres running and listening there, and are EDUSTAT_WAREHOUSE_DSN's host, "
            "port, user and password right?")


def guard(action: Callable[[], T], dsn: str) -> T:
    try:
        return action()
    except psycopg.OperationalError as exc:
        raise WarehouseUnavailable(describe_failure(dsn, exc)) from exc


def check_reachable(dsn: str) -> None:
    """Raise WarehouseUnavailable (one line) unless a session can be opened at `dsn`."""
    def probe() -> None:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute("SELECT 1")

    guard(probe, dsn)
