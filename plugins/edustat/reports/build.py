"""build_reports: marts -> provincial HTML report, county scorecards and an Excel workbook.

Layout under out_dir:
    index.html                          years, links
    <year>/index.html                   provincial report
    <year>/county/<county_code>.html    scorecards
    <year>/edustat_<year>.xlsx          one sheet per mart
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edustat.reports.excel import write_workbook
from edustat.reports.figures import (
    area_figures,
    area_name,
    province_codes,
    report_scope,
    thresholds,
)
from edustat.reports.marts import MART_TABLES, SCHOOL_TABLES, Snapshot, Table, snapshot
from edustat.reports.pages import (
    counties_of_year,
    county_context,
    county_names,
    environment,
    index_context,
    province_context,
)


@dataclass
class ReportsResult:
    out_dir: Path
    index: Path
    years: list[int] = field(default_factory=list)
    provincial: dict[int, Path] = field(default_factory=dict)
    counties: dict[int, dict[str, Path]] = field(default_factory=dict)
    excel: dict[int, Path] = field(default_factory=dict)
    # Mart tables that did not exist when the reports were built (their sections are empty).
    missing_tables: list[str] = field(default_factory=list)


def _write(path: Path, text: str) -> Path:
    """Write atomically: a reader (web server, browser) never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # mkstemp creates 0600; pages are published (web server, shared folder): world-readable.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _excel_name(year: int) -> str:
    return f"edustat_{year}.xlsx"


def _year_tables(snap: Snapshot, year: int, school: dict[str, Table]) -> list[Table]:
    tables = []
    for name in MART_TABLES:
        if name in SCHOOL_TABLES:
            if school[name].exists:
                tables.append(school[name])
        elif name in snap.tables:
            t = snap.tables[name]
            tables.append(Table(name, t.columns, t.int_columns, snap.rows(name, year)))
    return tables


def _write_excel(path: Path, year: int, tables: list[Table]) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    write_workbook(tmp, year, tables)
    os.replace(tmp, path)
    return path


def build_reports(dsn: str, out_dir: Path, years: list[int] | None = None,
                  links: dict[str, str] | None = None) -> ReportsResult:
    """Render the reports of `years` (None: every year in the marts) from the marts at `dsn`.

    `links` maps "data_docs" / "dbt_docs" / "rejections" to URLs, or to paths relative to
    `out_dir`; every page links to them.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment()
    result = ReportsResult(out_dir=out_dir, index=out_dir / "index.html")
    with snapshot(dsn) as snap:
        result.missing_tables = list(snap.missing_tables)
        wanted = sorted(snap.years if years is None else {int(y) for y in years})
        scope_by_year = {y: report_scope(snap, y) for y in snap.years}
        names = county_names(snap)
        # Pages link to other years only where that year's page exists or is built now.
        published = sorted(set(wanted) | {
            y for y in snap.years if (out_dir / str(y) / "index.html").is_file()})
        counties_by_year = {y: set(counties_of_year(snap, y)) for y in published}
        for year in wanted:
            result.years.append(year)
            year_dir = out_dir / str(year)
            school = {t: snap.school_table(t, year) for t in SCHOOL_TABLES}
            result.excel[year] = _write_excel(year_dir / _excel_name(year), year,
                                              _year_tables(snap, year, school))
            ctx = province_context(snap, year, scope_by_year.get(year), scope_by_year,
                                   published, links, _excel_name(year))
            result.provincial[year] = _write(
                year_dir / "index.html", env.get_template("province.html.j2").render(**ctx))

            gap_rows = school["school_resource_gaps"].rows
            limits = thresholds(gap_rows)
            gaps_by_county: dict[str, list[dict[str, Any]]] = {}
            for g in gap_rows:
                gaps_by_county.setdefault(str(g.get("county_code")), []).append(g)
            school_rows: dict[tuple[str, str], dict[str, Any]] = {
                (str(r["school_code"]), str(r["section"])): r
                for r in school["school_indicators"].rows}
            provinces = {p: area_figures(snap, year, p) for p in province_codes(snap, year)}
            county_tpl = env.get_template("county.html.j2")
            result.counties[year] = {}
            for county in counties_of_year(snap, year):
                own_years = [y for y in published if county in counties_by_year[y]]
                cctx = county_context(snap, year, county, names, gaps_by_county.get(county, []),
                                      limits, school_rows, provinces, own_years, links,
                                      _excel_name(year))
                result.counties[year][county] = _write(
                    year_dir / "county" / f"{county}.html", county_tpl.render(**cctx))
        # The index lists every year that has a report on disk, not only the ones built now.
        years_info = []
        for y in published:
            years_info.append({"year": y, "excel_name": _excel_name(y),
                               "scope_name": area_name(snap, y, scope_by_year.get(y)),
                               "counties": len(counties_of_year(snap, y))})
        _write(result.index, env.get_template("index.html.j2").render(
            **index_context(years_info, links)))
    return result
