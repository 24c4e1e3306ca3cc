"""The HTML reports say what the marts say, and say how many counties stand behind it.

Protects the provincial report and the county scorecards, built from the fixture marts (created
from the dbt contracts, reference data seeded by dbt): every figure read back from the pages
(the exact `data-value` of each element) equals the value queried from the marts in the test;
every headline figure shows "N/M 县" from region_summary's counties_reporting/expected; the
year-over-year change is computed over the counties reporting in both years (like-for-like,
recomputed here in SQL) and says so; rejected and missing counties are listed with their reasons
near the top and their scorecards say there is no data instead of "no shortfalls"; statuses use
the one label of the code_labels seed; policy numbers in the text come from the seeds; charts
carry the seed's targets; links between pages are relative and resolve; pages load nothing
(no script, stylesheet, image or URL) and contain no file:// URL; `report` for a year without
accepted data is refused and writes nothing.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from edustat.reports import NoDataForYears, ReportsResult, build_reports
from edustat.reports.formatting import as_list, delta, pct
from edustat.reports.labels import CODE_LABELS_CSV, codes
from fixtures_marts import (
    COUNTIES,
    INJECTION_NAME,
    INJECTION_SCHOOL,
    LATE_COUNTY,
    MISSING_COUNTY,
    NOT_READY_COUNTY,
    NULL_CV,
    REJECTED_COUNTY,
    REJECTION_REASONS,
    YEARS,
    marts,
    marts_template,
    seeded,
)

__all__ = ["marts", "marts_template", "seeded"]  # fixtures used here and by importers

LINKS = {
    "data_docs": "data-docs/index.html",
    "dbt_docs": "dbt-docs/index.html",
    "rejections": "rejections/index.html",
}
ALL_COUNTIES = {*COUNTIES, REJECTED_COUNTY[0], MISSING_COUNTY[0]}
VOID = {"meta", "br", "img", "input", "link", "hr", "circle", "rect", "line", "polyline"}
TOL = Decimal("1e-12")
SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
ICON = ('<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg'
        '%22 viewBox=%220 0 16 16%22%3E%3Crect width=%2216%22 height=%2216%22 rx=%223%22 '
        'fill=%22%231c5d99%22/%3E%3C/svg%3E">')


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parents: list[Element]) -> None:
        self.tag, self.attrs, self.parents, self.text = tag, attrs, parents, ""

    def get(self, key: str) -> str | None:
        return self.attrs.get(key)

    @property
    def value(self) -> Decimal | None:
        raw = self.attrs["data-value"]
        return Decimal(raw) if raw != "" else None

    def within(self, **attrs: str) -> bool:
        return any(all(p.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
                   for p in self.parents)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class Page(HTMLParser):
    """Every element with its attributes, ancestors and text, for exact read-back."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.source = path.read_text(encoding="utf-8")
        self.elements: list[Element] = []
        self._stack: list[Element] = []
        self.feed(self.source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs}, list(self._stack))
        self.elements.append(el)
        if tag not in VOID:
            self._stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}, list(self._stack)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i].tag == tag:
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for el in self._stack:
            el.text += data

    def find(self, **attrs: str) -> list[Element]:
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [e for e in self.elements if all(e.attrs.get(k) == v for k, v in want.items())]

    def one(self, **attrs: str) -> Element:
        found = self.find(**attrs)
        assert len(found) == 1, f"{attrs}: {len(found)} elements in {self.path}"
        return found[0]

    def text(self) -> str:
        return self.elements[0].text if self.elements else ""


def query(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def close(a: Decimal | None, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - Decimal(b)) <= TOL * max(Decimal(1), abs(Decimal(b)))


def policy(name: str) -> Decimal:
    with (SEEDS / "policy_parameters.csv").open(encoding="utf-8") as fh:
        return next(Decimal(r["value"]) for r in csv.DictReader(fh) if r["parameter"] == name)


@pytest.fixture
def built(marts: str, tmp_path: Path) -> Iterator[tuple[str, ReportsResult]]:
    yield marts, build_reports(marts, tmp_path / "reports", links=LINKS, run_id="night-42",
                               pdf=False)


def all_pages(result: ReportsResult) -> list[Path]:
    return [result.index, *result.provincial.values(),
            *(p for by_code in result.provinces.values() for p in by_code.values()),
            *(p for by_code in result.counties.values() for p in by_code.values())]


def assert_links_resolve(result: ReportsResult) -> None:
    """Every link between generated pages is relative and lands on a file that exists (the
    site's docs excepted: they are published beside the reports by edustat.site), and every
    in-page link on an element of the page."""
    site = {"data_docs", "dbt_docs", "rejections", "rejection"}
    for path in set(all_pages(result)):
        page = Page(path)
        for el in page.elements:
            href = el.get("href")
            if not href or href.startswith("data:"):  # the inline page icon
                continue
            assert not href.startswith(("/", "file:", "http:", "https:")), (path, href)
            if href.startswith("#"):
                assert page.find(id=href[1:]), f"{path}: no element for {href}"
                continue
            if el.get("data-link") in site or href.endswith(".pdf"):
                continue
            assert (path.parent / href).resolve().is_file(), f"{path}: broken link {href}"


def test_layout_paths_and_links_resolve(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    out = result.out_dir
    assert result.years == list(YEARS)
    assert result.index == out / "index.html"
    for year in YEARS:
        assert result.provincial[year] == out / str(year) / "index.html"
        assert result.provinces[year] == {"630000": out / str(year) / "index.html"}
        assert result.excel[year] == out / str(year) / f"edustat_{year}.xlsx"
        assert result.excel[year].stat().st_size > 5000
        expected = {r["county_code"] for r in query(
            dsn, "SELECT county_code FROM marts.submission_status WHERE school_year = %s",
            (year,))}
        assert expected == ALL_COUNTIES
        assert set(result.counties[year]) == expected
        for code, path in result.counties[year].items():
            assert path == out / str(year) / "county" / f"{code}.html"

    index = Page(result.index)
    hrefs = {e.get("href") for e in index.find() if e.get("href")}
    assert {"2023/index.html", "2024/index.html", "2024/edustat_2024.xlsx",
            "2024/index.pdf"} <= hrefs
    assert index.one(data_link="data_docs").get("href") == "data-docs/index.html"
    assert index.one(data_link="rejections").get("href") == "rejections/index.html"
    assert (out / "rejections" / "index.html").is_file()

    province = Page(result.provincial[2024])
    assert province.one(data_link="data_docs").get("href") == "../data-docs/index.html"
    assert province.one(data_link="dbt_docs").get("href") == "../dbt-docs/index.html"
    assert province.one(data_link="pdf").get("href") == "index.pdf"
    county = Page(result.counties[2024][NOT_READY_COUNTY])
    assert county.one(data_link="data_docs").get("href") == "../../data-docs/index.html"
    assert county.one(data_link="rejections").get("href") == "../../rejections/index.html"
    assert county.one(data_link="province").get("href") == "../index.html"
    assert county.one(data_link="pdf").get("href") == f"{NOT_READY_COUNTY}.pdf"

    assert_links_resolve(result)
    for path in all_pages(result):
        assert path.stat().st_mode & 0o444 == 0o444, f"{path} is not world-readable"


def test_pages_are_self_contained_chinese_utf8(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    for path in [*all_pages(result), result.out_dir / "rejections" / "index.html"]:
        source = path.read_text(encoding="utf-8")
        assert source.startswith("<!DOCTYPE html>")
        assert '<html lang="zh-CN">' in source
        assert '<meta charset="utf-8">' in source
        assert '"Noto Sans CJK SC"' in source
        # One <link>: the page's icon, drawn inline (data:), so no request for /favicon.ico.
        assert re.findall(r"<link\b[^>]*>", source) == [ICON], path
        assert re.search(r"<(script|img|iframe|object|embed)\b", source) is None, path
        assert "@import" not in source and "url(" not in source
        assert "file:" not in source, path
        for el in Page(path).elements:
            assert el.get("src") is None, f"{path}: resource {el.get('src')}"
            href = el.get("href") or ""
            assert not href.startswith(("http:", "https:", "//")), f"{path}: {href}"
    # The formula-looking school name is text on its scorecard, not markup or a link.
    county = Page(result.counties[2024][NOT_READY_COUNTY])
    cell = county.find(data_field="school_name")
    assert any(INJECTION_NAME in c.text for c in cell)
    assert not [e for e in county.elements if "attacker" in (e.get("href") or "")]


def like_for_like(dsn: str, year: int) -> dict[str, tuple[Any, Any]]:
    """The province's figures of `year` and `year - 1` over the counties with a region_summary
    row in both years, written out in SQL here (the independent oracle of the pages)."""
    sums = ("sum(schools) AS schools, sum(students) AS students,"
            " sum(multimedia_classrooms)::numeric / sum(classrooms) AS coverage_ratio,"
            " sum(schools_connected)::numeric / sum(schools) AS connected_share,"
            " sum(schools_100mbps_plus)::numeric / sum(schools) AS share_100mbps_plus,"
            " sum(primary_students)::numeric / sum(primary_teachers)"
            "   AS primary_student_teacher_ratio,"
            " sum(junior_students)::numeric / sum(junior_teachers)"
            "   AS junior_student_teacher_ratio")
    common = ("SELECT region_code FROM marts.region_summary WHERE region_level = 'county'"
              " AND school_year = %s INTERSECT SELECT region_code FROM marts.region_summary"
              " WHERE region_level = 'county' AND school_year = %s")
    rows = {}
    for y in (year, year - 1):
        rows[y] = query(dsn, f"SELECT {sums}, count(*) AS n FROM marts.region_summary"
                             f" WHERE region_level = 'county' AND school_year = %s"
                             f" AND region_code IN ({common})", (y, year, year - 1))[0]
        rows[y]["counties_ready"] = query(
            dsn, f"SELECT count(*) AS n FROM marts.county_balance_readiness WHERE ready"
                 f" AND school_year = %s AND county_code IN ({common})",
            (y, year, year - 1))[0]["n"]
    return {k: (rows[year][k], rows[year - 1][k]) for k in rows[year]}


def test_headline_figures_coverage_and_like_for_like_change(
        built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    region = {r["school_year"]: r for r in query(
        dsn, "SELECT * FROM marts.region_summary WHERE region_level = 'province'")}
    ready = {r["school_year"]: r for r in query(
        dsn, "SELECT school_year, count(*) FILTER (WHERE ready) AS ready, count(*) AS counties"
             " FROM marts.county_balance_readiness GROUP BY school_year")}
    columns = ("schools", "students", "coverage_ratio", "connected_share", "share_100mbps_plus",
               "primary_student_teacher_ratio", "junior_student_teacher_ratio")
    for year in YEARS:
        page = Page(result.provincial[year])
        for column in columns:
            assert page.one(data_metric=column, data_role="value").value == \
                region[year][column], (year, column)
        assert page.one(data_metric="counties_ready", data_role="value").value == \
            ready[year]["ready"]
        assert page.one(data_metric="counties", data_role="of").value == ready[year]["counties"]
        # N/M behind every figure: 3 of 5 counties in 2024, 2 of 5 in 2023.
        n, m = region[year]["counties_reporting"], region[year]["counties_expected"]
        assert (n, m) == ({2023: 2, 2024: 3}[year], 5)
        assert [e.text for e in page.find(data_role="coverage")] == [f"{n}/{m} 县"] * 7
        assert page.one(data_field="reporting").text == str(n)
        assert page.one(data_field="expected").text == str(m)
        cov = page.one(data_metric="coverage_ratio", data_role="value")
        assert cov.text == f"{region[year]['coverage_ratio'] * 100:.1f}%"
        assert "青海省" in page.elements[0].text

    first, second = YEARS
    assert Page(result.provincial[first]).find(data_role="delta") == []
    page = Page(result.provincial[second])
    expected = like_for_like(dsn, second)
    assert expected["n"] == (2, 2)  # 大通县 reports in 2024 only
    assert page.one(data_field="like_for_like_counties").text == "2"
    for column in (*columns, "counties_ready"):
        change = page.one(data_metric=column, data_role="delta")
        current, previous = expected[column]
        assert close(change.value, Decimal(current) - Decimal(previous)), column
        assert close(Decimal(change.get("data-previous") or "nan"), previous), column
        assert "同口径 2 县" in change.parents[-1].text
    # Not the naive difference of the province rows, which counts 大通县's schools as growth.
    naive = region[second]["schools"] - region[first]["schools"]
    assert page.one(data_metric="schools", data_role="delta").value != naive


def test_bar_charts_sorted_with_policy_target(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    charts = {"chart-coverage": ("county_multimedia_coverage", "coverage_ratio",
                                 "multimedia_coverage_target"),
              "chart-connected": ("county_broadband", "connected_share",
                                  "connected_share_target"),
              "chart-100mbps": ("county_broadband", "share_100mbps_plus",
                                "share_100mbps_target")}
    for year in YEARS:
        page = Page(result.provincial[year])
        for chart, (table, column, parameter) in charts.items():
            rows = query(dsn, f"SELECT county_code, {column} AS v FROM marts.{table}"
                              " WHERE school_year = %s", (year,))
            bars = [e for e in page.elements
                    if e.tag == "g" and "bar" in e.classes() and e.within(data_chart=chart)]
            assert {b.get("data-county"): b.value for b in bars} == {
                r["county_code"]: r["v"] for r in rows}
            values = [b.value for b in bars]
            assert values == sorted(values, reverse=True), chart
            target = policy(parameter)
            for b in bars:
                assert ("meets" in b.classes()) == (b.value is not None and b.value >= target)
            marks = [e for e in page.elements
                     if e.tag == "g" and "target" in e.classes() and e.within(data_chart=chart)]
            assert [t.value for t in marks] == [target]


def test_cv_grid_coloured_by_cv_ok_including_null(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    seen = {"ok": 0, "bad": 0, "na": 0}
    for year in YEARS:
        page = Page(result.provincial[year])
        rows = query(dsn, "SELECT * FROM marts.county_indicator_cv WHERE school_year = %s"
                          " AND (method = '2017' OR indicator = 'composite')", (year,))
        assert rows
        for r in rows:
            cell = page.one(data_county=r["county_code"], data_section=r["section"],
                            data_indicator=r["indicator"])
            assert cell.tag == "td"
            assert cell.value == r["cv"]
            assert Decimal(cell.get("data-limit") or "nan") == r["cv_limit"]
            expected = "na" if r["cv_ok"] is None else ("ok" if r["cv_ok"] else "bad")
            assert expected in cell.classes(), (r, cell.classes())
            assert ({"ok", "bad", "na"} - {expected}).isdisjoint(cell.classes())
            seen[expected] += 1
    county, section, indicator = NULL_CV
    null_cell = Page(result.provincial[2024]).one(data_county=county, data_section=section,
                                                  data_indicator=indicator)
    assert null_cell.get("data-null") == "true" and null_cell.text.strip() == "—"
    assert all(n > 0 for n in seen.values()), seen
    # Column heads: the indicators' names of the seed, with the 高于规定学历 wording.
    heads = [e.text for e in Page(result.provincial[2024]).find(
        data_indicator="qualified_teachers_per_100") if e.tag == "th"]
    assert heads and all("高于规定学历" in h for h in heads)


def test_readiness_table_lists_every_gap_and_the_seeds_rules(
        built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    for year in YEARS:
        page = Page(result.provincial[year])
        for r in query(dsn, "SELECT * FROM marts.county_balance_readiness"
                            " WHERE school_year = %s", (year,)):
            row = [e for e in page.find(data_county=r["county_code"]) if e.tag == "tr"
                   and e.within(id="readiness")]
            assert len(row) == 1
            cells = {e.get("data-field"): e for e in page.elements
                     if row[0] in e.parents and e.get("data-field")}
            assert cells["ready"].get("data-value") == ("true" if r["ready"] else "false")
            assert cells["compliant_share"].value == r["compliant_share"]
            assert cells["junior_retention_rate"].value == r["junior_retention_rate"]
            assert cells["compulsory_retention_rate"].value == r["compulsory_retention_rate"]
            items = [e.text for e in page.elements if e.tag == "li" and cells["gaps"] in e.parents]
            assert items == [g for g in (r["gaps"] or "").split("；") if g]
    page = Page(result.provincial[2024])
    note = next(e.text for e in page.elements if e.tag == "p" and e.within(id="readiness"))
    for parameter in ("primary_max_class_size", "junior_max_class_size",
                      "single_section_school_max_students", "combined_school_max_students"):
        assert f"{policy(parameter):f}" in note, parameter
    assert f"无 {policy('large_class_size'):f} 人及以上的大班额" in note
    assert pct(policy("junior_retention_target"), 0) in note
    assert f"九年义务教育巩固率（目标 {pct(policy('compulsory_retention_target'), 0)}）" in note


def test_trend_charts_follow_the_years(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    region = {r["school_year"]: r for r in query(
        dsn, "SELECT * FROM marts.region_summary WHERE region_level = 'province'")}
    for year in YEARS:  # a year's page shows the years up to it
        page = Page(result.provincial[year])
        for metric in ("coverage_ratio", "share_100mbps_plus", "students"):
            points = [e for e in page.elements
                      if e.tag == "circle" and e.within(data_chart=f"trend-{metric}")]
            assert {int(p.get("data-year") or 0): p.value for p in points} == {
                y: region[y][metric] for y in YEARS if y <= year}
        # Each point says how many counties stand behind it.
        for y in (y for y in YEARS if y <= year):
            n, m = region[y]["counties_reporting"], region[y]["counties_expected"]
            titles = re.findall(rf'data-year="{y}"[^>]*><title>([^<]*)</title>', page.source)
            assert titles and all(t.endswith(f"（{n}/{m} 县）") for t in titles), titles


def test_submission_status_near_the_top_with_reasons(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    labels = codes("status")
    for year in YEARS:
        page = Page(result.provincial[year])
        rows = query(dsn, "SELECT * FROM marts.submission_status WHERE school_year = %s",
                     (year,))
        shown = {e.parents[-1].get("data-county"): e.get("data-value")
                 for e in page.find(data_field="status")}
        assert shown == {r["county_code"]: r["status"] for r in rows}
        for r in rows:
            badge = next(e for e in page.find(data_field="status")
                         if e.parents[-1].get("data-county") == r["county_code"])
            assert badge.text.strip() == labels[r["status"]]
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in labels}
        for status, n in counts.items():
            assert page.one(data_status_count=status).text == str(n)
        # The counties behind no figure come first, with their reasons.
        table = page.one(data_table="not-accepted")
        listed = [e.get("data-county") for e in page.elements
                  if e.tag == "tr" and table in e.parents and e.get("data-county")]
        assert set(listed) == {r["county_code"] for r in rows if r["status"] != "accepted"}
        sections = [e.get("id") for e in page.elements if e.tag == "section"]
        assert sections[0] == "submissions"
        for (county, y), reason in REJECTION_REASONS.items():
            if y == year:
                cell = next(e for e in page.find(data_field="last_rejection_reason")
                            if e.parents[-1].get("data-county") == county)
                assert cell.text == reason
    # One wording per status, the seed's: never the old 已拒收.
    with CODE_LABELS_CSV.open(encoding="utf-8") as fh:
        assert {r["code"]: r["label_zh"] for r in csv.DictReader(fh)
                if r["code_set"] == "status"} == labels
    for path in all_pages(result):
        assert "已拒收" not in path.read_text(encoding="utf-8"), path


def test_scorecard_against_marts_and_province(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    year, code = 2024, NOT_READY_COUNTY
    page = Page(result.counties[year][code])
    cov = query(dsn, "SELECT * FROM marts.county_multimedia_coverage"
                     " WHERE school_year = %s AND county_code = %s", (year, code))[0]
    bb = query(dsn, "SELECT * FROM marts.county_broadband WHERE school_year = %s"
                    " AND county_code = %s", (year, code))[0]
    region = query(dsn, "SELECT * FROM marts.region_summary WHERE school_year = %s"
                        " AND region_level = 'province'", (year,))[0]
    for metric, value in (("coverage_ratio", cov["coverage_ratio"]),
                          ("fully_covered_share", cov["fully_covered_share"]),
                          ("connected_share", bb["connected_share"]),
                          ("share_100mbps_plus", bb["share_100mbps_plus"]),
                          ("share_10mbps_plus", bb["share_10mbps_plus"]),
                          ("median_bandwidth_mbps", bb["median_bandwidth_mbps"]),
                          ("kbps_per_student", bb["kbps_per_student"])):
        assert page.one(data_scope="county", data_metric=metric).value == value, metric
        # The province's figure is its region_summary row, never recomputed.
        assert page.one(data_scope="province", data_metric=metric).value == region[metric]
    assert page.one(data_field="province_coverage").text.endswith(
        f"{region['counties_reporting']}/{region['counties_expected']} 县")
    targets = {e.parents[-1].get("data-metric"): e.text for e in page.find(data_field="target")}
    assert targets["share_10mbps_plus"] == pct(policy("share_10mbps_target"))

    # Teacher ratios per section (all schools, 教学点 included), county vs province.
    for r in query(dsn, "SELECT * FROM marts.county_teacher_ratios WHERE school_year = %s"
                        " AND county_code = %s", (year, code)):
        for metric in ("student_teacher_ratio", "qualified_teachers_per_100",
                       "backbone_teachers_per_100", "senior_title_share"):
            cell = page.one(data_scope="county", data_section=r["section"], data_metric=metric)
            assert cell.value == r[metric]
        for metric in ("student_teacher_ratio", "qualified_teachers_per_100",
                       "senior_title_share"):
            prov = page.one(data_scope="province", data_section=r["section"],
                            data_metric=metric)
            assert prov.value == region[f"{r['section']}_{metric}"]
        assert not page.find(data_scope="province", data_section=r["section"],
                             data_metric="backbone_teachers_per_100")
        # 班师比: teachers over the classes of the same sections; no province figure.
        cell = page.one(data_scope="county", data_section=r["section"],
                        data_metric="teachers_per_class")
        assert cell.value == r["teachers_per_class"] and cell.value is not None
        assert not page.find(data_scope="province", data_section=r["section"],
                             data_metric="teachers_per_class")
    teachers = next(e.text for e in page.elements if e.get("id") == "teachers")
    indicators = next(e.text for e in page.elements if e.get("id") == "indicators")
    assert "含小学教学点" in teachers and "不含小学教学点" in indicators

    # 2017 indicators: county mean, threshold (seed), CV.
    areas = {(a["section"], a["indicator"], a["area"]): a for a in query(
        dsn, "SELECT * FROM marts.county_urban_rural WHERE school_year = %s"
             " AND county_code = %s", (year, code))}
    thresholds = {(t["section"], t["indicator"]): t["school_min_value"] for t in query(
        dsn, "SELECT section, indicator, school_min_value FROM reference.indicator_thresholds"
             " WHERE method::text = '2017'")}
    for r in query(dsn, "SELECT * FROM marts.county_indicator_cv WHERE school_year = %s"
                        " AND county_code = %s AND method = '2017'", (year, code)):
        key = {"data_section": r["section"], "data_indicator": r["indicator"]}
        assert page.one(data_field="county_value", **key).value == r["county_value"]
        assert page.one(data_field="cv", **key).value == r["cv"]
        assert page.one(data_field="cv_limit", **key).value == r["cv_limit"]
        ok = page.one(data_field="cv_ok", **key).get("data-value")
        assert ok == {True: "true", False: "false", None: ""}[r["cv_ok"]]
        assert page.one(data_field="threshold", **key).value == \
            thresholds[(r["section"], r["indicator"])]
        # Every school to the standard, and the 城乡 gap of the same indicator.
        assert page.one(data_field="schools_below_threshold", **key).value == \
            r["schools_below_threshold"]
        for area, field, column in (("urban", "urban_value", "value"),
                                    ("rural", "rural_value", "value"),
                                    ("rural", "rural_urban_ratio", "ratio_to_urban")):
            expected = areas[(r["section"], r["indicator"], area)][column]
            assert page.one(data_field=field, **key).value == expected, (key, field)
    assert any(a["ratio_to_urban"] is not None for (_, _, name), a in areas.items()
               if name == "rural")

    # 一县一案 work list: every gap of the county, with its shortfall; in-scope non-compliant
    # sections first, teaching points (out of scope) last and counted.
    gaps = query(dsn, "SELECT g.*, s.compliant FROM marts.school_resource_gaps g"
                      " JOIN marts.school_indicators s USING (school_year, school_code, section)"
                      " WHERE g.school_year = %s AND g.county_code = %s", (year, code))
    assert gaps
    rows = [e for e in page.elements if e.tag == "tr" and e.get("data-indicator")
            and e.within(id="worklist")]
    assert len(rows) == len(gaps)
    by_key = {(g["school_code"], g["section"], g["indicator"]): g for g in gaps}
    for tr in rows:
        g = by_key[(tr.get("data-school"), tr.get("data-section"), tr.get("data-indicator"))]
        fields = {e.get("data-field"): e for e in page.elements
                  if tr in e.parents and e.get("data-field")}
        assert fields["shortfall"].value == g["shortfall"]
        assert fields["value"].value == g["value"]
        assert fields["threshold"].value == g["threshold"]
    order = [next((not g["in_balance_scope"], g["compliant"]) for g in gaps
                  if g["school_code"] == tr.get("data-school")
                  and g["section"] == tr.get("data-section")) for tr in rows]
    assert order == sorted(order)
    assert any(tr.get("data-school") == INJECTION_SCHOOL for tr in rows)
    points = {(g["school_code"], g["section"]) for g in gaps if not g["in_balance_scope"]}
    assert points
    summary = page.one(data_field="worklist_summary").text
    assert f"另有 {len(points)} 个为小学教学点" in summary
    assert f"至少 {policy('compliance_min_indicators_met'):f} 项" in summary
    assert pct(policy("compliance_floor_ratio"), 0) in summary

    status = query(dsn, "SELECT * FROM marts.submission_status WHERE school_year = %s"
                        " AND county_code = %s", (year, code))[0]
    assert page.one(data_field="status").get("data-value") == status["status"]
    assert page.one(data_field="warnings").get("data-value") == str(status["warnings"])
    readiness = query(dsn, "SELECT * FROM marts.county_balance_readiness"
                           " WHERE school_year = %s AND county_code = %s", (year, code))[0]
    assert page.one(data_field="ready").get("data-value") == "false"
    items = [e.text for e in page.elements if e.tag == "li" and e.within(data_field="gaps")]
    assert items == readiness["gaps"].split("；")
    # The nine-year 巩固率 beside the three-year one, each with its seed target.
    nine = page.one(data_field="compulsory_retention_rate")
    assert nine.value == readiness["compulsory_retention_rate"]
    row = next(e for e in nine.parents if e.tag == "td").text
    assert f"目标 {pct(policy('compulsory_retention_target'), 0)}" in row


def test_province_page_shows_the_urban_rural_gap(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    for year in YEARS:
        page = Page(result.provincial[year])
        rows = query(dsn, "SELECT * FROM marts.region_urban_rural WHERE school_year = %s"
                          " AND region_level = 'province'", (year,))
        assert len(rows) == 2 * 3 * 7  # both sections × three areas × seven indicators
        for r in rows:
            key = {"data_section": r["section"], "data_indicator": r["indicator"]}
            assert page.one(data_field=f"{r['area']}_value", **key).value == r["value"]
            if r["area"] == "rural":
                assert page.one(data_field="rural_urban_ratio", **key).value == \
                    r["ratio_to_urban"]


@pytest.mark.parametrize("year,county,status", [
    (2024, REJECTED_COUNTY[0], "rejected"), (2023, LATE_COUNTY, "rejected"),
    (2024, MISSING_COUNTY[0], "missing")])
def test_scorecards_without_accepted_data_say_so(built: tuple[str, ReportsResult], year: int,
                                                 county: str, status: str) -> None:
    _, result = built
    page = Page(result.counties[year][county])
    assert page.one(data_field="status").get("data-value") == status
    assert codes("status")[status] in page.one(data_field="status").text
    banner = page.one(data_field="no_data").text
    assert "没有已接收的数据" in banner and "不表示没有差距" in banner
    if (county, year) in REJECTION_REASONS:
        assert page.one(data_field="last_rejection_reason").text == \
            REJECTION_REASONS[(county, year)]
    assert page.one(data_field="ready").get("data-value") == ""
    text = page.text()
    assert "没有低于标准值" not in text and "无低于标准值" not in text
    assert not page.find(id="worklist") and not page.find(id="indicators")


def test_selected_years_only_and_deterministic(marts: str, tmp_path: Path) -> None:
    first = build_reports(marts, tmp_path / "a", years=[2024], links=LINKS, pdf=False)
    assert first.years == [2024] and list(first.provincial) == [2024]
    assert not (tmp_path / "a" / "2023").exists()
    index = Page(first.index)
    assert [e.get("data-year") for e in index.elements if e.tag == "tr" and e.get("data-year")
            ] == ["2024"]
    # Year-over-year still compares with 2023, which is in the marts though not rebuilt,
    # but no page links to the 2023 pages that were not built.
    assert Page(first.provincial[2024]).find(data_role="delta")
    assert_links_resolve(first)
    assert not Page(first.provincial[2024]).find(data_link="year-2023")
    second = build_reports(marts, tmp_path / "b", years=[2024], links=LINKS, pdf=False)
    assert first.provincial[2024].read_bytes() == second.provincial[2024].read_bytes()
    code = NOT_READY_COUNTY
    assert first.counties[2024][code].read_bytes() == second.counties[2024][code].read_bytes()


def test_no_marts_yet_gives_an_empty_index(seeded: str, tmp_path: Path) -> None:
    result = build_reports(seeded, tmp_path / "r", pdf=False)
    assert result.years == [] and result.provincial == {}
    assert "尚无已接收的统计数据" in result.index.read_text(encoding="utf-8")


def test_a_year_without_accepted_data_is_refused_and_nothing_written(
        marts: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    with pytest.raises(NoDataForYears) as refused:
        build_reports(marts, out, years=[2024, 2031])
    assert refused.value.years == [2031]
    assert not out.exists()
    # The command line: one clear line, a non-zero exit, and still nothing written.
    home = tmp_path / "home"
    env = {**os.environ, "EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": marts}
    proc = subprocess.run([str(Path(sys.executable).parent / "edustat"), "report", "--year",
                           "2031"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ["edustat: report: 统计年度 2031 没有已接收的数据，未生成报告 / no accepted"
                     " data for school year 2031: no report written"], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (home / "reports").exists()


def test_human_formatting() -> None:
    assert pct(Decimal("0.95266")) == "95.3%"
    assert pct(None) == "—"
    assert delta(Decimal("0.036"), "pct") == "+3.6 个百分点"
    assert delta(Decimal("-12"), "count") == "−12"
    assert as_list(["缺少音乐教室", None, " "]) == ["缺少音乐教室"]
    assert as_list("小学差异系数超限；巩固率未知") == ["小学差异系数超限", "巩固率未知"]
    assert as_list(None) == []
