"""build_reports: marts -> year reports, county scorecards and Excel workbooks.

Layout under out_dir:
    index.html                                      years, links
    <year>/index.html                               the year's report (its province, or all)
    <year>/county/<county_code>.html                scorecards
    <year>/edustat_<year>.xlsx                      one sheet per mart (see excel.py)
    <year>/provinces/edustat_<year>_<province>.xlsx when the year spans several provinces

Rebuilding what a change touches: `counties` maps a year to the counties whose data changed.
For such a year whose pages exist, only these are rewritten: the scorecards of every county in
the changed counties' provinces (a scorecard compares the county with its province), the
year's page, the index, and the workbooks holding those counties (with several provinces:
their province workbooks and the year workbook). Every other file keeps its bytes and mtime.
A year whose pages do not exist yet, or whose layout changed (one province <-> several), is
built whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edustat.reports.excel import YearExport, export_year, province_workbook, year_workbook
from edustat.reports.figures import area_figures, area_name, province_codes, report_scope
from edustat.reports.marts import Snapshot, snapshot
from edustat.reports.pages import (
    CountyNames,
    county_context,
    county_provinces,
    environment,
    index_context,
    province_context,
    province_of_code,
)


@dataclass
class ReportsResult:
    out_dir: Path
    index: Path
    years: list[int] = field(default_factory=list)
    provincial: dict[int, Path] = field(default_factory=dict)
    # The scorecards written by this build (a scoped year: only the affected provinces').
    counties: dict[int, dict[str, Path]] = field(default_factory=dict)
    excel: dict[int, Path] = field(default_factory=dict)
    # Province workbooks written by this build (years spanning several provinces).
    province_excel: dict[int, dict[str, Path]] = field(default_factory=dict)
    # Years rebuilt only for the counties that changed (see the module docstring).
    scoped: list[int] = field(default_factory=list)
    # Mart tables that did not exist when the reports were built (their sections are empty).
    missing_tables: list[str] = field(default_factory=list)


@dataclass
class _Year:
    """What every page needs to know about a year, gathered before its rows are released."""

    scope: str | None
    scope_name: str
    provinces: list[str]
    province_of: dict[str, str]  # county -> province

    @property
    def counties(self) -> list[str]:
        return sorted(self.province_of)


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


def _survey(snap: Snapshot, years: list[int], names: CountyNames) -> dict[int, _Year]:
    """One pass over the years, one year's rows in memory at a time: scopes, counties, names,
    and the area figures the trend charts of every year page draw (memoised in `snap`)."""
    found = {}
    for year in years:
        scope = report_scope(snap, year)
        found[year] = _Year(scope, area_name(snap, year, scope), province_codes(snap, year),
                            county_provinces(snap, year))
        names.add(snap, year)
        area_figures(snap, year, scope)
        snap.release()
    return found


def _remove_stale_workbooks(year_dir: Path, export: YearExport) -> None:
    """After a whole-year build: drop province workbooks of provinces no longer in the year."""
    folder = year_dir / "provinces"
    if not folder.is_dir():
        return
    for path in folder.glob("edustat_*.xlsx"):
        if path not in export.provinces.values():
            path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()


def build_reports(dsn: str, out_dir: Path, years: list[int] | None = None,
                  links: dict[str, str] | None = None,
                  counties: Mapping[int, Collection[str]] | None = None) -> ReportsResult:
    """Render the reports of `years` from the marts at `dsn`.

    `years` None: the years of `counties` if given, else every year in the marts.
    `counties` maps a year to the county codes whose data changed: such a year is rebuilt only
    as far as those counties reach (module docstring); a year of `years` not in `counties` is
    rebuilt whole.
    `links` maps "data_docs" / "dbt_docs" / "rejections" to URLs, or to paths relative to
    `out_dir`; every page links to them.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if years is None and counties is not None:
        years = list(counties)
    env = environment()
    result = ReportsResult(out_dir=out_dir, index=out_dir / "index.html")
    with snapshot(dsn) as snap:
        result.missing_tables = list(snap.missing_tables)
        wanted = sorted(snap.years if years is None else {int(y) for y in years})
        county_names = CountyNames()
        facts = _survey(snap, sorted(set(snap.years) | set(wanted)), county_names)
        names = county_names.names()
        scope_by_year = {y: f.scope for y, f in facts.items()}
        # Pages link to other years only where that year's page exists or is built now.
        published = sorted(set(wanted) | {
            y for y in snap.years if (out_dir / str(y) / "index.html").is_file()})
        county_tpl = env.get_template("county.html.j2")
        for year in wanted:
            result.years.append(year)
            year_dir = out_dir / str(year)
            fact = facts[year]
            several = len(fact.provinces) > 1
            changed = (counties or {}).get(year)
            # The provinces a scoped rebuild is about (None: the whole year). Scoping needs the
            # year's pages, laid out as this build would lay them.
            affected: set[str] | None = None
            if (changed is not None and (year_dir / "index.html").is_file()
                    and (year_dir / "provinces").is_dir() == several):
                affected = {fact.province_of.get(c, province_of_code(c)) for c in changed}
                result.scoped.append(year)

            province_names = {p: area_name(snap, year, p) for p in fact.provinces}
            export = export_year(snap, year, year_dir, fact.provinces, province_names, affected)
            if affected is None:
                _remove_stale_workbooks(year_dir, export)
            result.excel[year] = export.year
            result.province_excel[year] = export.provinces
            files = ({p: province_workbook(year, p) for p in fact.provinces} if several
                     else {})

            ctx = province_context(snap, year, fact.scope, scope_by_year, published, names,
                                   links, year_workbook(year), files)
            result.provincial[year] = _write(
                year_dir / "index.html", env.get_template("province.html.j2").render(**ctx))

            rebuild = [c for c in fact.counties
                       if affected is None or fact.province_of[c] in affected]
            limits = snap.thresholds(year)
            provinces = {p: area_figures(snap, year, p) for p in fact.provinces
                         if affected is None or p in affected}
            result.counties[year] = {}
            worklists = snap.worklists(year, None if affected is None else rebuild)
            with closing(worklists):
                for county, own in _align(rebuild, worklists):
                    own_years = [y for y in published if county in facts[y].province_of]
                    cctx = county_context(
                        snap, year, county, names, own, limits, provinces, own_years, links,
                        files.get(fact.province_of[county], year_workbook(year)))
                    result.counties[year][county] = _write(
                        year_dir / "county" / f"{county}.html", county_tpl.render(**cctx))
            snap.release()
        # The index lists every year that has a report on disk, not only the ones built now.
        years_info = [{"year": y, "excel_name": year_workbook(y),
                       "scope_name": facts[y].scope_name, "counties": len(facts[y].province_of)}
                      for y in published]
        _write(result.index, env.get_template("index.html.j2").render(
            **index_context(years_info, links)))
    return result


def _align(counties: list[str], worklists: Iterator[tuple[str, list[dict[str, Any]]]]
           ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each of `counties` (sorted) with its work list, from the stream of (county, rows)."""
    pending = next(worklists, None)
    for county in counties:
        while pending is not None and pending[0] < county:
            pending = next(worklists, None)
        if pending is not None and pending[0] == county:
            yield county, pending[1]
        else:
            yield county, []
