"""build_reports: marts -> year reports, county scorecards, Excel workbooks and A4 PDFs.

Layout under out_dir (the site root, edustat.site):
    index.html                                      the years with data, links
    <year>/index.html                               the year's provincial report, or with
                                                    several provinces the national page
    <year>/province/<province>.html                 a province's report (several provinces)
    <year>/index.pdf, <year>/province/<p>.pdf       provincial reports as A4 PDF
    <year>/county/<county_code>.html + .pdf         scorecards
    <year>/edustat_<year>.xlsx                      one sheet per mart (see excel.py)
    <year>/provinces/edustat_<year>_<province>.xlsx when the year spans several provinces

Only years with accepted data get pages; asking for a year without raises NoDataForYears before
anything is written.

Rebuilding what a change touches: `counties` maps a year to the counties whose data changed.
For such a year whose pages exist, only these are rewritten: the scorecards of every county in
the changed counties' provinces (a scorecard compares the county with its province), those
provinces' reports, the year's page, the index, and the workbooks holding those counties (with
several provinces: their province workbooks and the year workbook). Every other file keeps its
bytes and mtime. A year whose pages do not exist yet, or whose layout changed (one province <->
several), is built whole.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edustat.intake.rejection_report import published_rejections, write_index
from edustat.reports.browser import BrowserMissing, Printer
from edustat.reports.excel import YearExport, export_year, province_workbook, year_workbook
from edustat.reports.figures import province_codes, remember
from edustat.reports.marts import Snapshot, snapshot
from edustat.reports.pages import (
    CountyNames,
    Page,
    county_context,
    county_page,
    county_provinces,
    environment,
    index_context,
    national_context,
    province_context,
    province_of_code,
    province_page,
)
from edustat.site import INDEX, write_atomic

log = logging.getLogger(__name__)


class NoDataForYears(ValueError):
    """Reports were asked for school years without accepted data: nothing is written."""

    def __init__(self, years: list[int]) -> None:
        self.years = years
        listed = "、".join(str(y) for y in years)
        super().__init__(
            f"统计年度 {listed} 没有已接收的数据，未生成报告 / no accepted data for school year "
            f"{', '.join(str(y) for y in years)}: no report written")


@dataclass
class ReportsResult:
    out_dir: Path
    index: Path
    years: list[int] = field(default_factory=list)
    # The year's page: its provincial report, or the national page with several provinces.
    provincial: dict[int, Path] = field(default_factory=dict)
    # Province reports written by this build: year -> province -> page.
    provinces: dict[int, dict[str, Path]] = field(default_factory=dict)
    # The scorecards written by this build (a scoped year: only the affected provinces').
    counties: dict[int, dict[str, Path]] = field(default_factory=dict)
    excel: dict[int, Path] = field(default_factory=dict)
    # Province workbooks written by this build (years spanning several provinces).
    province_excel: dict[int, dict[str, Path]] = field(default_factory=dict)
    # A4 PDFs written beside the provincial reports and scorecards.
    pdfs: list[Path] = field(default_factory=list)
    # Why PDFs are missing, when they are (no browser): one line.
    pdf_problem: str | None = None
    # Years rebuilt only for the counties that changed (see the module docstring).
    scoped: list[int] = field(default_factory=list)


@dataclass
class _Year:
    """What every page needs to know about a year, gathered before its rows are released."""

    provinces: list[str]  # with data
    province_of: dict[str, str]  # county -> province, every county of the year
    names: dict[str, str] = field(default_factory=dict)  # province -> name
    reporting: int = 0  # counties with accepted data (region_summary, all provinces)
    expected: int = 0  # counties expected

    @property
    def counties(self) -> list[str]:
        """Counties with a scorecard: those of the provinces with data."""
        return sorted(c for c, p in self.province_of.items() if p in self.provinces)

    @property
    def several(self) -> bool:
        return len(self.provinces) > 1


def require_data(dsn: str, years: Collection[int]) -> None:
    """NoDataForYears unless every one of `years` has accepted data in the marts."""
    with snapshot(dsn) as snap:
        empty = sorted(y for y in set(years) if y not in snap.years)
    if empty:
        raise NoDataForYears(empty)


def _survey(snap: Snapshot, names: CountyNames) -> dict[int, _Year]:
    """One pass over the years, one year's rows in memory at a time: provinces, counties, names,
    and what later pages need of the year (trend points, like-for-like bases), memoised."""
    found = {}
    for year in snap.years:
        provinces = province_codes(snap, year)
        fact = _Year(provinces, county_provinces(snap, year))
        for p in provinces:
            row = snap.region(year, "province", p)
            snap.memo[("province_row", year, p)] = row
            assert row is not None
            fact.names[p] = row["region_name"] or p
            fact.reporting += row["counties_reporting"]
            fact.expected += row["counties_expected"]
        names.add(snap, year)
        remember(snap, year, provinces)
        found[year] = fact
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
                  counties: Mapping[int, Collection[str]] | None = None,
                  run_id: str | None = None, pdf: bool = True) -> ReportsResult:
    """Render the reports of `years` from the marts at `dsn`.

    `years` None: the years of `counties` if given, else every year with data. A year without
    accepted data raises NoDataForYears (nothing written).
    `counties` maps a year to the county codes whose data changed: such a year is rebuilt only
    as far as those counties reach (module docstring); a year of `years` not in `counties` is
    rebuilt whole.
    `links` maps "rejections" / "data_docs" / "dbt_docs" to paths relative to `out_dir` (or
    URLs); every page links to them (edustat.site.publish_docs gives them).
    `run_id` names the run that generates the pages (shown on them); `pdf` False skips the
    A4 PDFs.
    """
    out_dir = Path(out_dir)
    if years is None and counties is not None:
        years = list(counties)
    env = environment()
    result = ReportsResult(out_dir=out_dir, index=out_dir / INDEX)
    printer = _printer(result) if pdf else None

    def printing(page: Path) -> None:
        if printer is not None:
            printer.submit(page, page.with_suffix(".pdf"))

    with printer or nullcontext(), snapshot(dsn) as snap:
        wanted = sorted(snap.years if years is None else {int(y) for y in years})
        empty = [y for y in wanted if y not in snap.years]
        if empty:
            raise NoDataForYears(empty)
        out_dir.mkdir(parents=True, exist_ok=True)
        county_names = CountyNames()
        facts = _survey(snap, county_names)
        names = county_names.names(snap)
        # Pages link to other years only where that year's page exists or is built now.
        published = sorted(y for y in snap.years
                           if y in wanted or (out_dir / str(y) / INDEX).is_file())
        rejections = published_rejections(out_dir)
        for year in wanted:
            result.years.append(year)
            year_dir = out_dir / str(year)
            fact = facts[year]
            changed = (counties or {}).get(year)
            # The provinces a scoped rebuild is about (None: the whole year). Scoping needs the
            # year's pages, laid out as this build would lay them.
            affected: set[str] | None = None
            if (changed is not None and (year_dir / INDEX).is_file()
                    and (year_dir / "province").is_dir() == fact.several):
                affected = {fact.province_of.get(c, province_of_code(c)) for c in changed}
                result.scoped.append(year)

            files = ({p: province_workbook(year, p) for p in fact.provinces} if fact.several
                     else {})
            excel_of = {p: files.get(p, year_workbook(year)) for p in fact.provinces}

            result.provinces[year] = {}
            for p in fact.provinces:
                if affected is not None and p not in affected:
                    continue
                page = Page(province_page(year, p, fact.several))
                p_years = [y for y in published if p in facts[y].provinces]
                ctx = province_context(
                    snap, year, p, names, page, p_years,
                    {y: province_page(y, p, facts[y].several) for y in p_years}, links,
                    page.href(f"{year}/{excel_of[p]}"), fact.several, rejections, run_id)
                path = write_atomic(out_dir / page.path,
                                    env.get_template("province.html.j2").render(**ctx))
                result.provinces[year][p] = path
                printing(path)
            if fact.several:
                page = Page(f"{year}/{INDEX}")
                ctx = national_context(snap, year, fact.provinces, page, published, links,
                                       page.href(f"{year}/{year_workbook(year)}"), files, run_id)
                result.provincial[year] = write_atomic(
                    out_dir / page.path, env.get_template("national.html.j2").render(**ctx))
            else:
                result.provincial[year] = year_dir / INDEX

            rebuild = [c for c in fact.counties
                       if affected is None or fact.province_of[c] in affected]
            result.counties[year] = {}
            county_tpl = env.get_template("county.html.j2")
            worklists = snap.worklists(year, None if affected is None else rebuild)
            with closing(worklists):
                for county, own in _align(rebuild, worklists):
                    province = fact.province_of[county]
                    page = Page(county_page(year, county))
                    own_years = [y for y in published if county in facts[y].province_of
                                 and facts[y].province_of[county] in facts[y].provinces]
                    cctx = county_context(
                        snap, year, county, names, own, page,
                        page.href(province_page(year, province, fact.several)), own_years,
                        links, page.href(f"{year}/{excel_of[province]}"), rejections, run_id)
                    path = write_atomic(out_dir / page.path, county_tpl.render(**cctx))
                    result.counties[year][county] = path
                    printing(path)
            # After the pages: the workbooks are written while the pages are printed.
            export = export_year(snap, year, year_dir, fact.provinces, fact.names, affected)
            if affected is None:
                _remove_stale_workbooks(year_dir, export)
            result.excel[year] = export.year
            result.province_excel[year] = export.provinces
            snap.release()
        # The index lists every year with data that has a report on disk.
        years_info = [{"year": y, "href": f"{y}/{INDEX}",
                       "excel_href": f"{y}/{year_workbook(y)}",
                       "pdf_href": f"{y}/index.pdf" if not facts[y].several else None,
                       "scope_name": ("、".join(facts[y].names.values()) if not facts[y].several
                                      else f"全国（{len(facts[y].provinces)} 个省级单位）"),
                       "reporting": facts[y].reporting, "expected": facts[y].expected}
                      for y in published]
        write_atomic(result.index, env.get_template("index.html.j2").render(
            **index_context(years_info, links, run_id)))
    if printer is not None:
        result.pdfs = printer.written
    # The Airflow menu and every page link the rejections index: it exists, even empty.
    write_index(out_dir)
    return result


def _printer(result: ReportsResult) -> Printer | None:
    """The printer the pages are queued to as they are written; None without a browser."""
    try:
        return Printer()
    except BrowserMissing as exc:
        # The pages and workbooks are published; the PDFs follow once a browser is installed.
        result.pdf_problem = str(exc)
        log.error("%s", exc)
        return None


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
