"""Reading the marts: one consistent snapshot for a whole report build.

Reports read `marts.*` and the reference data the marts were built from (`reference.*`: policy
parameters, indicator names and units, thresholds, division names). The build runs inside one
REPEATABLE READ, READ ONLY transaction so every page and workbook of a night agree with each
other even if dbt swaps a table meanwhile.

Columns are the ones the dbt contracts declare (edustat.reports.interface), selected by name in
their declared order: a mart whose columns differ from its declaration (a build of another
version of the project) stops the build with the differences named, and a row has exactly its
declared keys, so a renamed column raises KeyError instead of reading as None.

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

from edustat.reports.interface import Interface, InterfaceError, Mart, load_interface

# The pages use the 2017 indicators and the 2012 composite of county_indicator_cv; the other
# 2012 rows (a third of a national year) go to Excel only.
PAGE_ROWS: dict[str, sql.Composable] = {
    "county_indicator_cv": sql.SQL("(method::text = '2017' OR indicator = 'composite')"),
}

# Read as the text Postgres prints for Excel: every digit of a numeric, no Decimal on the way.
_TEXT_TYPES = ("int2", "int4", "int8", "oid", "numeric", "float4", "float8")
_FETCH_ROWS = 5000

Row = dict[str, Any]


class MartsMismatch(InterfaceError):
    """The marts in the warehouse are not the ones the dbt project declares."""


@dataclass(frozen=True)
class Indicator:
    """An indicator of seed `indicators`: names and units for pages (reference.indicators)."""

    code: str
    name: str
    value_unit: str
    resource_unit: str


@dataclass
class Snapshot:
    """The marts inside one transaction: page rows per year on demand, streams for the rest."""

    conn: psycopg.Connection
    interface: Interface
    # School years with accepted data (a region_summary row), oldest first.
    years: list[int] = field(default_factory=list)
    # Whether the marts exist at all (none before the first successful build).
    built: bool = False
    policy: dict[str, str] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    # (method, section, indicator) -> (school threshold, CV limit), seed indicator_thresholds.
    limits: dict[tuple[str, str, str], tuple[Decimal | None, Decimal | None]] = field(
        default_factory=dict)

    # Derived figures keyed by their arguments, computed once a build.
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _loaded: dict[int, dict[str, list[Row]]] = field(default_factory=dict)
    _by_county: dict[tuple[str, int], dict[str, list[Row]]] = field(default_factory=dict)
    _regions: dict[int, dict[tuple[str, str], Row]] = field(default_factory=dict)
    _divisions: dict[str, str] = field(default_factory=dict)

    def mart(self, table: str) -> Mart:
        return self.interface[table]

    def rows(self, table: str, year: int) -> list[Row]:
        """County/region-grain rows of one year (loaded with the rest of that year)."""
        if self.mart(table).school_grain:
            raise InterfaceError(f"marts.{table} is school-grain: stream it, never load it")
        if year not in self._loaded:
            self._loaded[year] = {m.name: self._page_rows(m, year) for m in self.interface
                                  if not m.school_grain}
        return self._loaded[year][table]

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
                index.setdefault(r["county_code"], []).append(r)
            self._by_county[key] = index
        return self._by_county[key].get(county, [])

    def region(self, year: int, level: str, code: str) -> Row | None:
        """The region_summary row of a region (pages ask once per county: indexed)."""
        if year not in self._regions:
            self._regions[year] = {(r["region_level"], r["region_code"]): r
                                   for r in self.rows("region_summary", year)}
        return self._regions[year].get((level, code))

    def policy_number(self, name: str) -> Decimal:
        """A number of seed policy_parameters (a target, a limit) as the marts used it."""
        try:
            return Decimal(self.policy[name])
        except KeyError:
            raise InterfaceError(f"policy parameter {name!r} is missing from "
                                 "reference.policy_parameters (seed policy_parameters.csv)"
                                 ) from None

    def indicator(self, code: str) -> Indicator:
        try:
            return self.indicators[code]
        except KeyError:
            raise InterfaceError(f"indicator {code!r} is not in reference.indicators") from None

    def method_indicators(self, method: str) -> list[str]:
        """The indicators of an assessment method, in the seed's order."""
        found = {i for (m, _, i) in self.limits if m == method}
        return [code for code in self.indicators if code in found]

    def division_names(self, codes: Collection[str]) -> dict[str, str]:
        """Names of divisions (prefectures, provinces) from reference.divisions."""
        wanted = sorted(set(codes) - set(self._divisions))
        if wanted:
            for r in self.conn.execute(
                    "SELECT division_code, division_name FROM reference.divisions"
                    " WHERE division_code = ANY(%s)", (wanted,)).fetchall():
                self._divisions[r["division_code"]] = r["division_name"]
        return {c: self._divisions[c] for c in codes if c in self._divisions}

    def _page_rows(self, mart: Mart, year: int) -> list[Row]:
        query = sql.SQL("SELECT {} FROM {} WHERE school_year = %s").format(
            _fields(mart), sql.Identifier("marts", mart.name))
        if mart.name in PAGE_ROWS:
            query += sql.SQL(" AND ") + PAGE_ROWS[mart.name]
        query += _order_by([sql.Identifier(c) for c in mart.grain])
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, (year,))
            return cur.fetchall()

    def worklists(self, year: int, counties: Collection[str] | None = None
                  ) -> Generator[tuple[str, list[Row]], None, None]:
        """(county, its school_resource_gaps rows with the school's name and compliance), in
        county order, for `counties` (None: all); counties without gaps are not listed."""
        query = sql.SQL(
            "SELECT g.county_code, g.school_code, g.section, g.indicator, g.value, g.threshold,"
            " g.shortfall, g.in_balance_scope, coalesce(nullif(s.school_name, ''),"
            " g.school_name) AS school_name, s.compliant, s.indicators_met"
            " FROM marts.school_resource_gaps g"
            " LEFT JOIN marts.school_indicators s ON s.school_year = g.school_year"
            " AND s.school_code = g.school_code AND s.section = g.section"
            " WHERE g.school_year = %s")
        params: list[Any] = [year]
        if counties is not None:
            query += sql.SQL(" AND g.county_code = ANY(%s)")
            params.append(sorted(counties))
        # County order as Python sorts codes (the build walks counties in that order), then
        # the grain of the table.
        query += sql.SQL(' ORDER BY g.county_code COLLATE "C", g.school_code, g.section,'
                         " g.indicator")
        with self.conn.cursor("edustat_worklists", row_factory=dict_row) as cur:
            cur.itersize = _FETCH_ROWS
            cur.execute(query, params)
            for county, rows in groupby(cur, key=lambda r: r["county_code"]):
                yield county, list(rows)

    @contextmanager
    def stream(self, table: str, year: int, provinces: Sequence[str] | None = None
               ) -> Iterator[Iterator[tuple[Any, ...]]]:
        """A mart's rows of `year` for Excel (declared columns, numbers as text). With
        `provinces`: only those provinces' rows, ordered by province first, each row led by
        its province code."""
        mart = self.mart(table)
        keys: list[sql.Composable] = [sql.Identifier(c) for c in mart.grain]
        where = sql.SQL("school_year = %s")
        params: list[Any] = [year]
        fields = _fields(mart)
        if provinces is not None:
            key = province_key(mart)
            fields = sql.SQL("{} AS province, {}").format(key, fields)
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


def province_key(mart: Mart) -> sql.Composable:
    """SQL for the province of a row: its province_code, else the first two digits of its
    county or region code (GB/T 2260: a province code is those digits and four zeros)."""
    if "province_code" in mart:
        return sql.Identifier("province_code")
    for column in ("county_code", "region_code"):
        if column in mart:
            return sql.SQL("left({}, 2) || '0000'").format(sql.Identifier(column))
    raise InterfaceError(f"marts.{mart.name} has no column giving a row's province")


def _fields(mart: Mart) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in mart.names)


def _order_by(keys: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(keys) if keys else sql.SQL("")


def _check_marts(conn: psycopg.Connection, interface: Interface) -> bool:
    """True when the marts exist as declared, False when none exist yet; MartsMismatch else."""
    found: dict[str, list[str]] = {}
    for r in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'marts' ORDER BY table_name, ordinal_position").fetchall():
        found.setdefault(r["table_name"], []).append(r["column_name"])
    declared = {m.name for m in interface}
    if not declared & set(found):
        return False
    problems = []
    for mart in interface:
        if mart.name not in found:
            problems.append(f"marts.{mart.name} does not exist")
            continue
        missing = [c for c in mart.names if c not in found[mart.name]]
        extra = [c for c in found[mart.name] if c not in mart.names]
        if missing:
            problems.append(f"marts.{mart.name} lacks {', '.join(missing)}")
        if extra:
            problems.append(f"marts.{mart.name} has undeclared {', '.join(extra)}")
    if problems:
        raise MartsMismatch("the marts differ from the dbt project's declaration; rebuild them"
                            " (edustat run): " + "; ".join(problems))
    return True


def _reference(snap: Snapshot) -> None:
    conn = snap.conn
    snap.policy = {r["parameter"]: r["value"] for r in conn.execute(
        "SELECT parameter, value FROM reference.policy_parameters").fetchall()}
    snap.indicators = {
        r["indicator"]: Indicator(r["indicator"], r["name_zh"], r["value_unit_zh"],
                                  r["resource_unit_zh"])
        for r in conn.execute(
            "SELECT indicator, name_zh, value_unit_zh, resource_unit_zh FROM reference.indicators"
            " ORDER BY sort_order, indicator").fetchall()}
    snap.limits = {
        (r["method"], r["section"], r["indicator"]): (
            None if r["school_min_value"] is None else Decimal(r["school_min_value"]),
            None if r["cv_limit"] is None else Decimal(r["cv_limit"]))
        for r in conn.execute(
            "SELECT method::text AS method, section, indicator, school_min_value, cv_limit"
            " FROM reference.indicator_thresholds").fetchall()}


@contextmanager
def snapshot(dsn: str, interface: Interface | None = None) -> Iterator[Snapshot]:
    interface = interface or load_interface()
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        # Beijing time on every timestamp the pages and workbook show.
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        conn.commit()
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            snap = Snapshot(conn, interface)
            snap.built = _check_marts(conn, interface)
            if snap.built:
                _reference(snap)
                snap.years = [r["school_year"] for r in conn.execute(
                    "SELECT DISTINCT school_year FROM marts.region_summary ORDER BY 1")]
            yield snap
