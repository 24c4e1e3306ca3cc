"""Publish freshly built marts: swap the tested `marts_next` schema in for `marts` at once.

dbt swaps each table on its own, and its tests run after the swap; building the night's marts
in a schema of their own and renaming schemas only when the whole build passed means a failing
test never reaches a ministry, and all marts change together in one transaction.
"""

from __future__ import annotations

import psycopg

NEXT = "marts_next"
RETIRED = "marts_retired"


def drop_next(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")


def publish(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE")
        conn.execute(f"ALTER SCHEMA marts RENAME TO {RETIRED}")
        conn.execute(f"ALTER SCHEMA {NEXT} RENAME TO marts")
        conn.execute("GRANT USAGE ON SCHEMA marts TO ministry_reader")
    # Dropping waits for readers still on yesterday's tables; the new ones are already live.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE")
