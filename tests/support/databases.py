"""A database of its own for a test or a module, created on the test server and always dropped.

Tests that run nights through Airflow or the CLI need a whole warehouse database; the ones
they leave behind after a failure would pile up on the shared server, so dropping is not left
to the happy path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from edustat.warehouse.connection import with_database


@contextmanager
def fresh_database(server: str, prefix: str = "edustat_test") -> Iterator[str]:
    """DSN of a new empty database on `server` (a DSN of its maintenance database)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
