"""Reading the marts: one consistent snapshot for a whole report build.

Reports read `marts.*` only. The build runs inside one REPEATABLE READ, READ ONLY transaction so
every page and workbook of a night agree with each other even if dbt swaps a table meanwhile.
Columns are taken as the marts have them (`SELECT *`): interface.md allows new columns, and the
workbooks export them too.

Memory stays flat at national scale (2,855 counties, ~1 M school-grain rows a year):
- county/region-grain rows are loaded for the pages one year at a time and released after;
- school-grain rows are never all held: the scorecards' work lists and every Excel sheet are
  streamed through server-side cursors, in the order they are written.
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, tuple_row
from psycopg.types.string import TextLoader

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
# School-grain tables can reach hundreds of thousands of rows a year: streamed, never loaded.
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

# The pages use the 2017 indicators and the 2012 composite of county_indicator_cv; the other
# 2012 rows (a third of a national year) go to Excel only.
PAGE_ROWS: dict[str, sql.Composable] = {
    "county_indicator_cv": sql.SQL("(method::text = '2017' OR indicator = 'composite')"),
}

# Postgres type oids of integer columns: written to Excel as counts.
_INT_OIDS = frozenset({20, 21, 23})
# Read as the text Postgres prints for Excel: every digit of a numeric, no Decimal on the way.
_TEXT_TYPES = ("int2", "int4", "int8", "oid", "numeric", "float4", "float8")
_FETCH_ROWS = 5000


class Row(dict[str, Any]):
    """A mart row; a column the marts do not have reads as None instead of failing a page."""

    def __missing__(self, key: str) -> None:
        return None


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[str, ...]
    types: tuple[int, ...]  # Postgres type oids, one per column

    @property
    def int_columns(self) -> frozenset[str]:
        return frozenset(c for c, t in zip(self.columns, self.types, strict=True)
                         if t in _INT_OIDS)


@dataclass
class Snapshot:
    """The marts inside one transaction: page rows per year on demand, streams for the rest."""

    conn: psycopg.Connection
    tables: dict[str, TableInfo] = field(default_factory=dict)
    years: list[int] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)

    # Derived figures keyed by their arguments (figures.area_figures), computed once a build.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _loaded: dict[int, dict[str, list[Row]]] = field(default_factory=dict)
    _by_county: dict[tuple[str, int], dict[str, list[Row]]] = field(default_factory=dict)
    _regions: dict[int, dict[tuple[str, str], Row]] = field(default_factory=dict)

    def rows(self, table: str, year: int) -> list[Row]:
        """County/region-grain rows of one year (loaded with the rest of that year)."""
        if year not in self._loaded:
            self._loaded[year] = {t: self._page_rows(t, year) for t in self.tables
                                  if t not in SCHOOL_TABLES}
        return self._loaded[year].get(table, [])

    def release(self) -> None:
        """Forget the page rows read so far (memoised figures stay)."""
        self._loaded.clear()
        self._by_county.clear()
        self._regions.clear()

    def county_rows(self, table: str, year: int, county: str) -> list[Row]:
        key = (table, year)
        if key not in self._by_county:
            index: dict[str, list[Row]] = {}
            for r in self.rows(table, year):
                index.setdefault(str(r.get("county_code")), []).append(r)
            self._by_county[key] = index
        return self._by_county[key].get(county, [])

    def region(self, year: int, level: str, code: str) -> Row | None:
        """The region_summary row of a region (pages ask once per county: indexed)."""
        if year not in self._regions:
            self._regions[year] = {(str(r.get("region_level")), str(r.get("region_code"))): r
                                   for r in reversed(self.rows("region_summary", year))}
        return self._regions[year].get((level, code))

    def _page_rows(self, table: str, year: int) -> list[Row]:
        info = self.tables[table]
        query = sql.SQL("SELECT * FROM {} WHERE school_year = %s").format(
            sql.Identifier("marts", table))
        if table in PAGE_ROWS:
            query += sql.SQL(" AND ") + PAGE_ROWS[table]
        query += _order_by(_order_keys(info, ORDER_BY.get(table, ())))
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, (year,))
            return [Row(r) for r in cur]

    def thresholds(self, year: int) -> dict[tuple[str, str], Decimal]:
        """(section, indicator) -> threshold, as school_resource_gaps carries it for the year."""
        if "school_resource_gaps" not in self.tables:
            return {}
        found = self.conn.execute(
            "SELECT section::text AS section, indicator::text AS indicator, min(threshold) AS t"
            " FROM marts.school_resource_gaps WHERE school_year = %s AND threshold IS NOT NULL"
            " GROUP BY 1, 2", (year,)).fetchall()
        return {(r["section"], r["indicator"]): Decimal(r["t"]) for r in found}

    def worklists(self, year: int, counties: Collection[str] | None = None
                  ) -> Generator[tuple[str, list[dict[str, Any]]], None, None]:
        """(county, its school_resource_gaps rows with the school's name and compliance), in
        county order, for `counties` (None: all); counties without gaps are not listed."""
        gaps, schools = (self.tables.get(t) for t in ("school_resource_gaps",
                                                      "school_indicators"))
        if gaps is None:
            return

        def col(info: TableInfo | None, alias: str, name: str) -> sql.Composable:
            if info is None or name not in info.columns:
                return sql.NULL
            return sql.Identifier(alias, name)

        fields = [sql.SQL("g.county_code::text AS county_code")]
        fields += [sql.SQL("{} AS {}").format(col(gaps, "g", c), sql.Identifier(c))
                   for c in ("school_code", "section", "indicator", "value", "threshold",
                             "shortfall")]
        fields += [
            sql.SQL("coalesce(nullif({}, ''), {}) AS school_name").format(
                col(schools, "s", "school_name"), col(gaps, "g", "school_name")),
            sql.SQL("{} AS compliant").format(col(schools, "s", "compliant")),
            sql.SQL("{} AS indicators_met").format(col(schools, "s", "indicators_met")),
        ]
        join = sql.SQL("")
        if schools is not None:
            join = sql.SQL(" LEFT JOIN marts.school_indicators s ON s.school_year = g.school_year"
                           " AND s.school_code = g.school_code AND s.section = g.section")
        query = sql.SQL("SELECT {} FROM marts.school_resource_gaps g{} WHERE g.school_year = %s"
                        ).format(sql.SQL(", ").join(fields), join)
        params: list[Any] = [year]
        if counties is not None:
            query += sql.SQL(" AND g.county_code::text = ANY(%s)")
            params.append(sorted(counties))
        # County order as Python sorts codes (the build walks counties in that order), then
        # the grain of the table.
        query += sql.SQL(' ORDER BY g.county_code::text COLLATE "C", g.school_code, g.section,'
                         " g.indicator")
        with self.conn.cursor("edustat_worklists", row_factory=dict_row) as cur:
            cur.itersize = _FETCH_ROWS
            cur.execute(query, params)
            for county, rows in groupby(cur, key=lambda r: r["county_code"]):
                yield county, list(rows)

    @contextmanager
    def stream(self, table: str, year: int, provinces: Sequence[str] | None = None
               ) -> Iterator[Iterator[tuple[Any, ...]]]:
        """A table's rows of `year` for Excel, numbers as text. With `provinces`: only those
        provinces' rows, ordered by province first, each row led by its province code."""
        info = self.tables[table]
        keys = _order_keys(info, ORDER_BY.get(table, ()))
        where = sql.SQL("school_year = %s")
        params: list[Any] = [year]
        if provinces is None:
            fields: sql.Composable = sql.SQL("*")
        else:
            key = province_key(info)
            fields = sql.SQL("{} AS province, *").format(key)
            where += sql.SQL(" AND {} = ANY(%s)").format(key)
            params.append(list(provinces))
            keys = [sql.SQL('{} COLLATE "C"').format(key), *keys]
        query = sql.SQL("SELECT {} FROM {} WHERE {}{}").format(
            fields, sql.Identifier("marts", table), where, _order_by(keys))
        with self.conn.cursor(f"edustat_{table}", row_factory=tuple_row) as cur:
            for name in _TEXT_TYPES:
                cur.adapters.register_loader(name, TextLoader)
            cur.itersize = _FETCH_ROWS
            cur.execute(query, params)
            yield iter(cur)


def province_key(info: TableInfo) -> sql.Composable:
    """SQL for the province of a row: its province_code, else the first two digits of its
    county or region code (GB/T 2260: a province code is those digits and four zeros)."""
    if "province_code" in info.columns:
        return sql.SQL("province_code::text")
    for column in ("county_code", "region_code"):
        if column in info.columns:
            return sql.SQL("left({}::text, 2) || '0000'").format(sql.Identifier(column))
    return sql.NULL


def _order_keys(info: TableInfo, order: Sequence[str]) -> list[sql.Composable]:
    return [sql.Identifier(c) for c in order if c in info.columns]


def _order_by(keys: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(keys) if keys else sql.SQL("")


def _tables(conn: psycopg.Connection) -> dict[str, TableInfo]:
    existing = {r["table_name"] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'")}
    found = {}
    for table in MART_TABLES:
        if table not in existing:
            continue
        with conn.cursor() as cur:
            # A zero-row probe gives the column names and types without a scan.
            cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(
                sql.Identifier("marts", table)))
            description = cur.description or ()
        found[table] = TableInfo(table, tuple(d.name for d in description),
                                 tuple(d.type_code for d in description))
    return found


@contextmanager
def snapshot(dsn: str) -> Iterator[Snapshot]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        # Beijing time on every timestamp the pages and workbook show.
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        conn.commit()
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            snap = Snapshot(conn, _tables(conn))
            snap.missing_tables = [t for t in MART_TABLES if t not in snap.tables]
            years: set[int] = set()
            for table in snap.tables:
                found = conn.execute(sql.SQL("SELECT DISTINCT school_year FROM {}").format(
                    sql.Identifier("marts", table))).fetchall()
                years.update(int(r["school_year"]) for r in found if r["school_year"])
            snap.years = sorted(years)
            yield snap
