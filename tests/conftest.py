"""Shared fixtures: a real Postgres server for the whole session, a fresh database per test.

Server: EDUSTAT_WAREHOUSE_DSN if set, else the local 127.0.0.1:5432 if it answers, else an
embedded server started under a temporary EDUSTAT_HOME (what a fresh machine gets).
Every database a test creates is dropped afterwards.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edustat.warehouse import embedded
from edustat.warehouse.bootstrap import bootstrap
from edustat.warehouse.connection import with_database
from support.databases import fresh_database

REPO = Path(__file__).resolve().parents[1]

# Real SMTP and HTTP receivers for the alert and notice tests (smtp_server, http_receiver).
pytest_plugins = ["support.receivers"]


def _local_server_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN of a server on which tests may create and drop databases."""
    if os.environ.get("EDUSTAT_WAREHOUSE_DSN"):
        yield with_database(os.environ["EDUSTAT_WAREHOUSE_DSN"], "postgres")
        return
    if _local_server_answers():
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
        return
    pgdata = tmp_path_factory.mktemp("pg") / "pgdata"
    dsn = embedded.ensure_running(pgdata)
    try:
        yield dsn
    finally:
        embedded.stop(pgdata)


@pytest.fixture
def empty_db(pg_server: str) -> Iterator[str]:
    """A brand-new, empty database (nothing bootstrapped)."""
    with fresh_database(pg_server) as dsn:
        yield dsn


@pytest.fixture
def warehouse(empty_db: str) -> str:
    """A fresh database with the platform's schemas, ops/raw tables and roles."""
    bootstrap(empty_db)
    return empty_db
