"""Create (idempotently) the schemas, ops/raw tables and roles the platform itself writes."""

from __future__ import annotations

from importlib.resources import files

import psycopg

from edustat.columns import COLUMNS
from edustat.divisions import sync_divisions_table

# Serialises concurrent bootstraps (two CLI runs, parallel test workers) on one database.
_BOOTSTRAP_LOCK = 7_462_001


def schema_sql() -> str:
    template = (files("edustat.warehouse") / "schema.sql").read_text(encoding="utf-8")
    columns = ",\n".join(f"    {c.key:<30} text" for c in COLUMNS)
    return template.replace("{school_row_columns}", columns)


def bootstrap(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_BOOTSTRAP_LOCK,))
        try:
            conn.execute(schema_sql())
            with conn.transaction():
                sync_divisions_table(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_BOOTSTRAP_LOCK,))
