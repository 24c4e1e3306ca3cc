"""Who reads the marts: ministry_reader, and per-province readers by row-level security.

`edustat grant --province 63 NAME` makes NAME a member of ministry_reader whose members see
only province 63's rows of every marts table. The rule lives in the warehouse (schema.sql:
ops.reader_scopes, ops.reader_provinces) and in one policy per table, which `secure_schema`
puts on every table of a schema. The nightly publish calls it on marts_next before the swap,
so a rebuilt table is never readable without its policy.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

POLICY = "edustat_province_scope"
# The first of these columns a table has says which province a row belongs to (its first two
# digits); a table with none of them is readable by unrestricted readers only.
PROVINCE_COLUMNS = ("province_code", "county_code", "region_code")
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_SCOPE = "(SELECT ops.reader_provinces(current_user))"


def _policy_expression(column: str | None) -> sql.Composable:
    unrestricted = sql.SQL(f"{_SCOPE} IS NULL")
    if column is None:
        return unrestricted
    # CAST: `= ANY (SELECT …)` would compare with each row of a subquery, not the array.
    return sql.SQL("{} OR left({}::text, 2) = ANY (CAST({} AS text[]))").format(
        unrestricted, sql.Identifier(column), sql.SQL(_SCOPE))


def secure_schema(conn: psycopg.Connection, schema: str) -> int:
    """Row-level security and the province policy on every table of `schema` (idempotent);
    views read as their caller. Returns the number of tables secured."""
    tables = conn.execute(
        """SELECT c.relname, c.relkind,
                  (SELECT a.attname FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                     AND a.attname = ANY(%s)
                   ORDER BY array_position(%s, a.attname::text) LIMIT 1)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v')
           ORDER BY 1""",
        (list(PROVINCE_COLUMNS), list(PROVINCE_COLUMNS), schema)).fetchall()
    secured = 0
    for name, kind, column in tables:
        target = sql.Identifier(schema, name)
        if kind == "v":
            # A view reads with its owner's rights, past the policies, unless told otherwise.
            conn.execute(sql.SQL("ALTER VIEW {} SET (security_invoker = true)").format(target))
            continue
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
        conn.execute(sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(
            sql.Identifier(POLICY), target))
        conn.execute(sql.SQL("CREATE POLICY {} ON {} FOR SELECT USING ({})").format(
            sql.Identifier(POLICY), target, _policy_expression(column)))
        secured += 1
    return secured


def unsecured_tables(conn: psycopg.Connection, schema: str = "marts") -> list[str]:
    return [r[0] for r in conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
             AND NOT (c.relrowsecurity AND EXISTS (
                 SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s))
           ORDER BY 1""", (schema, POLICY))]


def grant_province(conn: psycopg.Connection, role: str, provinces: list[str]) -> bool:
    """NAME reads the marts of `provinces` only: the role (NOLOGIN when new) joins
    ministry_reader, its scope is recorded, and the published marts get their policies if an
    older night published them without. Returns True when the role was created."""
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"role name {role!r}: expected lower-case letters, digits and _")
    created = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None
    if created:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT ministry_reader TO {}").format(sql.Identifier(role)))
    conn.execute(
        """INSERT INTO ops.reader_scopes (role_name, provinces) VALUES (%s, %s)
           ON CONFLICT (role_name) DO UPDATE SET provinces = EXCLUDED.provinces,
                                                 granted_at = clock_timestamp()""",
        (role, sorted(set(provinces))))
    if unsecured_tables(conn):
        secure_schema(conn, "marts")
    return created
