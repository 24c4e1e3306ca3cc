"""Publish freshly built marts: swap the tested `marts_next` schema in for `marts` at once.

dbt swaps each table on its own, and its tests run after the swap; building the night's marts
in a schema of their own and renaming schemas only when the whole build passed means a failing
test never reaches a ministry, and all marts change together in one transaction.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from edustat.warehouse.access import secure_schema

NEXT = "marts_next"
RETIRED = "marts_retired"


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
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'marts' ORDER BY 1")]
        for table in tables:
            source = sql.Identifier("marts", table)
            target = sql.Identifier(NEXT, table)
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(target, source))
            conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(target, source))
    return len(tables)


def publish(dsn: str, fingerprint_comment: str | None = None) -> None:
    """Swap `marts_next` in; `fingerprint_comment` records what built it (build_scope)."""
    with psycopg.connect(dsn) as conn:
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
