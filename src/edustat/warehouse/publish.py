"""Publish freshly built marts: swap the tested `marts_next` schema in for `marts` at once.

dbt swaps each table on its own, and its tests run after the swap; building the night's marts
in a schema of their own and renaming schemas only when the whole build passed means a failing
test never reaches a ministry, and all marts change together in one transaction. Only the
mart models are published: anything else in `marts_next` (a `__dbt_backup` or `__dbt_tmp`
left by a killed dbt, a table of a model since removed) is dropped first, never readable by
ministry_reader.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

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


def clone_to_next(dsn: str, workers: int = 2) -> int:
    """`marts_next` as a copy of the published marts, for an incremental build to update.

    Copying costs seconds; building in place would let a failing test reach the ministries.
    The tables are copied side by side (`workers` connections; the two school-grain marts
    hold most of the rows) and their plain indexes built once the rows are in, which costs
    less than maintaining them row by row. Returns the number of tables copied.
    """
    with psycopg.connect(dsn) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")
        conn.execute(f"CREATE SCHEMA {NEXT}")
        wanted = mart_models()
        tables = [r[0] for r in conn.execute(
            """SELECT tablename FROM pg_tables WHERE schemaname = 'marts'
               ORDER BY pg_total_relation_size(format('marts.%I', tablename)) DESC""")
            if r[0] in wanted]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(partial(_copy_table, dsn), tables))
    return len(tables)


def _copy_table(dsn: str, table: str) -> None:
    source = sql.Identifier("marts", table)
    target = sql.Identifier(NEXT, table)
    with psycopg.connect(dsn) as conn:
        # Indexes backing a constraint come with the table (INCLUDING ALL); the others after.
        plain = [r[0] for r in conn.execute(
            """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'marts' AND c.relname = %s
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            """, (table,))]
        including = "INCLUDING ALL EXCLUDING INDEXES" if plain else "INCLUDING ALL"
        conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} {})").format(
            target, source, sql.SQL(including)))
        if plain:
            constraints = conn.execute(
                """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'x')""",
                (f"marts.{_quoted(table)}",)).fetchall()
            for name, definition in constraints:
                conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    target, sql.Identifier(name), sql.SQL(definition)))
        conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(target, source))
        for definition in plain:
            conn.execute(_in_next(definition, table))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _in_next(index_definition: str, table: str) -> sql.Composable:
    """pg_get_indexdef of a marts index, on the table of marts_next."""
    for spelling in (f"ON marts.{table} ", f"ON marts.{_quoted(table)} "):
        if spelling in index_definition:
            return sql.SQL(index_definition.replace(spelling, f"ON {NEXT}.{_quoted(table)} ", 1))
    raise ValueError(f"unexpected index definition: {index_definition}")


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
