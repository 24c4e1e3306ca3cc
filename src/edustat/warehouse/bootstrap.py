"""Create (idempotently) the schemas, ops/raw tables and roles the platform itself writes.

Every night, `edustat status` and every test start here, so the common case costs one query:
the `ops` schema's comment records the hash of the DDL last applied, and the DDL (which takes
locks a stuck session could hold) runs only when the schema file changed.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files

import psycopg

from edustat.columns import COLUMNS
from edustat.divisions import SEED_PATH, sync_divisions_table

# Serialises concurrent bootstraps (two CLI runs, parallel test workers) on one database.
_BOOTSTRAP_LOCK = 7_462_001
_MARK = "edustat-schema:"


def schema_sql() -> str:
    template = (files("edustat.warehouse") / "schema.sql").read_text(encoding="utf-8")
    columns = ",\n".join(f"    {c.key:<30} text" for c in COLUMNS)
    return template.replace("{school_row_columns}", columns)


def _applied(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace"
                       " WHERE nspname = 'ops'").fetchone()
    return row[0] if row else None


def bootstrap(dsn: str) -> None:
    ddl = schema_sql()
    # The divisions seed is copied into ops.divisions: a new seed is a new schema too.
    mark = _MARK + hashlib.sha256(ddl.encode() + SEED_PATH.read_bytes()).hexdigest()[:16]
    with psycopg.connect(dsn, autocommit=True) as conn:
        if _applied(conn) == mark:
            return
        conn.execute("SELECT pg_advisory_lock(%s)", (_BOOTSTRAP_LOCK,))
        try:
            if _applied(conn) != mark:
                conn.execute(ddl)
                with conn.transaction():
                    sync_divisions_table(conn)
                conn.execute(f"COMMENT ON SCHEMA ops IS '{mark}'")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_BOOTSTRAP_LOCK,))
