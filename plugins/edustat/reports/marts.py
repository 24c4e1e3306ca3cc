"""Reading the marts: one consistent snapshot for a whole report build.

Reports read `marts.*` only. The build runs inside one REPEATABLE READ, READ ONLY transaction so
every page and the workbook of a night agree with each other even if dbt swaps a table
meanwhile. Columns are taken as the marts have them (`SELECT *`): interface.md allows new
columns, and the workbook exports them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

MART_TABLES: tuple[str, ...] = (
    "region_summary",
    "county_multimedia_coverage",
    "county_broadband",
    "county_teacher_ratios",
    "county_indicator_cv",
    "county_balance_readiness",
    "school_indicators",
    "school_resource_gaps",
    "submission_status",
)
# School-grain tables can reach hundreds of thousands of rows a year: loaded one year at a time.
SCHOOL_TABLES: frozenset[str] = frozenset({"school_indicators", "school_resource_gaps"})

# Deterministic row order (the grain of each table, interface.md), applied where present.
ORDER_BY: dict[str, tuple[str, ...]] = {
    "region_summary": ("school_year", "region_level", "region_code"),
    "county_multimedia_coverage": ("school_year", "county_code"),
    "county_broadband": ("school_year", "county_code"),
    "county_teacher_ratios": ("school_year", "county_code", "section"),
    "county_indicator_cv": ("school_year", "county_code", "section", "method", "indicator"),
    "county_balance_readiness": ("school_year", "county_code"),
    "school_indicators": ("school_year", "county_code", "school_code", "section"),
    "school_resource_gaps": ("school_year", "county_code", "school_code", "section", "indicator"),
    "submission_status": ("school_year", "county_code"),
}

# Postgres type oids of integer columns: written to Excel as counts.
_INT_OIDS = frozenset({20, 21, 23})


class Row(dict[str, Any]):
    """A mart row; a column the marts do not have reads as None instead of failing a page."""

    def __missing__(self, key: str) -> None:
        return None


@dataclass
class Table:
    name: str
    columns: list[str]
    int_columns: set[str]
    rows: list[dict[str, Any]]
    exists: bool = True


@dataclass
class Snapshot:
    """Small (county/region grain) tables for every year, plus school tables per year."""

    conn: psycopg.Connection
    tables: dict[str, Table] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)

    # Derived figures keyed by their arguments (figures.area_figures), computed once a build.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _by_year: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    _by_county: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = field(
        default_factory=dict)

    def rows(self, table: str, year: int | None = None) -> list[dict[str, Any]]:
        t = self.tables.get(table)
        if t is None:
            return []
        if year is None:
            return t.rows
        # Indexed once: pages ask for the same (table, year) thousands of times nationally.
        key = (table, year)
        if key not in self._by_year:
            self._by_year[key] = [r for r in t.rows if r.get("school_year") == year]
        return self._by_year[key]

    def county_rows(self, table: str, year: int, county: str) -> list[dict[str, Any]]:
        key = (table, year)
        if key not in self._by_county:
            index: dict[str, list[dict[str, Any]]] = {}
            for r in self.rows(table, year):
                index.setdefault(str(r.get("county_code")), []).append(r)
            self._by_county[key] = index
        return self._by_county[key].get(county, [])

    def school_table(self, table: str, year: int) -> Table:
        """A school-grain table for one year, read now (inside the same snapshot)."""
        if table in self.missing_tables:
            return Table(table, [], set(), [], exists=False)
        return _read(self.conn, table, year)


def _existing(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
    ).fetchall()
    return {r["table_name"] for r in rows}


def _read(conn: psycopg.Connection, table: str, year: int | None) -> Table:
    order = [c for c in ORDER_BY.get(table, ())]
    query = sql.SQL("SELECT * FROM {}").format(sql.Identifier("marts", table))
    params: tuple[Any, ...] = ()
    if year is not None:
        query += sql.SQL(" WHERE school_year = %s")
        params = (year,)
    with conn.cursor() as cur:
        # Ordering needs the column names first; a zero-row probe gives them without a scan.
        cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(sql.Identifier("marts", table)))
        names = [d.name for d in cur.description or ()]
        order = [c for c in order if c in names]
        if order:
            query += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(
                sql.Identifier(c) for c in order
            )
        cur.execute(query, params)
        columns = [d.name for d in cur.description or ()]
        ints = {d.name for d in cur.description or () if d.type_code in _INT_OIDS}
        rows = cur.fetchall()
    return Table(table, columns, ints, [Row(r) for r in rows])


@contextmanager
def snapshot(dsn: str) -> Iterator[Snapshot]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        # Beijing time on every timestamp the pages and workbook show.
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        conn.commit()
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            existing = _existing(conn)
            snap = Snapshot(conn)
            snap.missing_tables = [t for t in MART_TABLES if t not in existing]
            years: set[int] = set()
            for table in MART_TABLES:
                if table not in existing:
                    continue
                if table in SCHOOL_TABLES:
                    found = conn.execute(
                        sql.SQL("SELECT DISTINCT school_year FROM {}").format(
                            sql.Identifier("marts", table)
                        )
                    ).fetchall()
                    years.update(int(r["school_year"]) for r in found if r["school_year"])
                    continue
                t = _read(conn, table, None)
                snap.tables[table] = t
                years.update(int(r["school_year"]) for r in t.rows if r.get("school_year"))
            snap.years = sorted(years)
            yield snap
