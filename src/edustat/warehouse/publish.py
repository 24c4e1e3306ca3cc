"""Publish freshly built marts: swap the tested `marts_next` schema in for `marts` at once.

dbt swaps each table on its own, and its tests run after the swap; building the night's marts
in a schema of their own and renaming schemas only when the whole build passed means a failing
test never reaches a ministry, and all marts change together in one transaction. Only the
mart models are published: anything else in `marts_next` (a `__dbt_backup` or `__dbt_tmp`
left by a killed dbt, a table of a model since removed) is dropped first, never readable by
ministry_reader.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from edustat.config import REPO_ROOT
from edustat.warehouse.access import secure_schema

NEXT = "marts_next"
RETIRED = "marts_retired"
MART_MODELS = REPO_ROOT / "dbt_project" / "models" / "marts"


def mart_models() -> set[str]:
    """The relations a published `marts` holds: one per model file of models/marts/."""
    return {path.stem for path in MART_MODELS.glob("*.sql")}


def _drop_strays(conn: psycopg.Connection, schema: str) -> list[str]:
    wanted = mart_models()
    strays = [(name, kind) for name, kind in conn.execute(
        """SELECT c.relname, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')""", (schema,))
        if name not in wanted]
    for name, kind in strays:
        what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(kind, "TABLE")
        conn.execute(sql.SQL("DROP {} IF EXISTS {} CASCADE").format(
            sql.SQL(what), sql.Identifier(schema, name)))
    return [name for name, _ in strays]


def drop_next(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")


def clone_to_next(dsn: str) -> int:
    """`marts_next` as a copy of the published marts, for an incremental build to update.

    Copying costs seconds; building in place would let a failing test reach the ministries.
    Returns the number of tables copied.
    """
    with psycopg.connect(dsn) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")
        conn.execute(f"CREATE SCHEMA {NEXT}")
        wanted = mart_models()
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'marts' ORDER BY 1")
            if r[0] in wanted]
        for table in tables:
            source = sql.Identifier("marts", table)
            target = sql.Identifier(NEXT, table)
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(target, source))
            conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(target, source))
    return len(tables)


def publish(dsn: str, fingerprint_comment: str | None = None) -> None:
    """Swap `marts_next` in; `fingerprint_comment` records what built it (build_scope)."""
    with psycopg.connect(dsn) as conn:
        _drop_strays(conn, NEXT)
        if fingerprint_comment is not None:
            conn.execute(sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
                sql.Identifier(NEXT), sql.Literal(fingerprint_comment)))
        # Per-province readers: no table goes live without its row-level security.
        secure_schema(conn, NEXT)
        conn.execute(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE")
        conn.execute(f"ALTER SCHEMA marts RENAME TO {RETIRED}")
        conn.execute(f"ALTER SCHEMA {NEXT} RENAME TO marts")
        conn.execute("GRANT USAGE ON SCHEMA marts TO ministry_reader")
    # Dropping waits for readers still on yesterday's tables; the new ones are already live.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE")
