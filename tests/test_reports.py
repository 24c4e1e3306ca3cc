"""The HTML reports say what the marts say.

Protects the provincial report and the county scorecards: every figure read back from the pages
(the exact `data-value` of each element) equals the value queried from the marts in the test,
charts are sorted and carry the policy targets, CV cells are coloured by `cv_ok` (NULL too),
readiness gaps and submission statuses are complete, links between pages resolve, and the pages
are self-contained (nothing fetched from the network) with a CJK font stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from edustat.reports import ReportsResult, build_reports
from edustat.reports.formatting import as_list, delta, pct
from fixtures_marts import (
    COUNTIES,
    INJECTION_NAME,
    INJECTION_SCHOOL,
    MISSING_COUNTY,
    NOT_READY_COUNTY,
    NULL_CV,
    REJECTED_COUNTY,
    YEARS,
    create_marts,
)

LINKS = {
    "data_docs": "data_docs/index.html",
    "dbt_docs": "https://docs.example.invalid/dbt/index.html",
    "rejections": "rejections/index.html",
}
ALL_COUNTIES = {*COUNTIES, REJECTED_COUNTY[0], MISSING_COUNTY[0]}
VOID = {"meta", "br", "img", "input", "link", "hr", "circle", "rect", "line", "polyline"}
TOL = Decimal("1e-12")


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


@pytest.fixture
def marts(warehouse: str) -> str:
    create_marts(warehouse)
    return warehouse


@pytest.fixture
def built(marts: str, tmp_path: Path) -> Iterator[tuple[str, ReportsResult]]:
    yield marts, build_reports(marts, tmp_path / "reports", links=LINKS)


def test_layout_paths_and_links_resolve(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    out = result.out_dir
    assert result.years == list(YEARS)
    assert result.index == out / "index.html"
    for year in YEARS:
        assert result.provincial[year] == out / str(year) / "index.html"
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
    assert {"2023/index.html", "2024/index.html", "2024/edustat_2024.xlsx"} <= hrefs
    assert index.one(data_link="data_docs").get("href") == "data_docs/index.html"

    province = Page(result.provincial[2024])
    assert province.one(data_link="data_docs").get("href") == "../data_docs/index.html"
    assert province.one(data_link="dbt_docs").get("href") == LINKS["dbt_docs"]
    county = Page(result.counties[2024][NOT_READY_COUNTY])
    assert county.one(data_link="data_docs").get("href") == "../../data_docs/index.html"
    assert county.one(data_link="rejections").get("href") == "../../rejections/index.html"
    assert county.one(data_link="province").get("href") == "../index.html"

    assert_links_resolve(result)
    for path in all_pages(result):
        assert path.stat().st_mode & 0o444 == 0o444, f"{path} is not world-readable"


def all_pages(result: ReportsResult) -> list[Path]:
    return [result.index, *result.provincial.values(),
            *(p for by_code in result.counties.values() for p in by_code.values())]


def assert_links_resolve(result: ReportsResult) -> None:
    """Every page-to-page link lands on a file that exists (the given links are external), and
    every in-page link on an element of the page."""
    external = {"data_docs", "dbt_docs", "rejections"}
    for path in all_pages(result):
        page = Page(path)
        for el in page.elements:
            href = el.get("href")
            if not href or el.get("data-link") in external or href.startswith("https://"):
                continue
            if href.startswith("#"):
                assert page.find(id=href[1:]), f"{path}: no element for {href}"
                continue
            assert (path.parent / href).resolve().is_file(), f"{path}: broken link {href}"


def test_pages_are_self_contained_chinese_utf8(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    for path in all_pages(result):
        source = path.read_text(encoding="utf-8")
        assert source.startswith("<!DOCTYPE html>")
        assert '<html lang="zh-CN">' in source
        assert '<meta charset="utf-8">' in source
        assert '"Noto Sans CJK SC"' in source and "WenQuanYi Micro Hei" in source
        assert re.search(r"<(script|link|img|iframe|object)\b", source) is None, path
        assert "@import" not in source and "url(" not in source
        page = Page(path)
        for el in page.elements:
            src = el.get("src")
            assert src is None, f"{path}: external resource {src}"
            href = el.get("href") or ""
            if href.startswith(("http:", "https:", "//")):
                assert href == LINKS["dbt_docs"], f"{path}: unexpected external link {href}"
    # The formula-looking school name is text on its scorecard, not markup or a link.
    county = Page(result.counties[2024][NOT_READY_COUNTY])
    cell = county.find(data_field="school_name")
    assert any(INJECTION_NAME in c.text for c in cell)
    assert not [e for e in county.elements if "attacker" in (e.get("href") or "")]


def test_headline_figures_equal_region_summary(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    region = {r["school_year"]: r for r in query(
        dsn, "SELECT * FROM marts.region_summary WHERE region_level = 'province'")}
    ready = {r["school_year"]: r for r in query(
        dsn, "SELECT school_year, count(*) FILTER (WHERE ready) AS ready, count(*) AS counties"
             " FROM marts.county_balance_readiness GROUP BY school_year")}
    columns = {"schools": "schools", "students": "students", "coverage_ratio": "coverage_ratio",
               "connected_share": "connected_share",
               "share_100mbps_plus": "share_100mbps_plus",
               "primary:student_teacher_ratio": "primary_student_teacher_ratio",
               "junior:student_teacher_ratio": "junior_student_teacher_ratio"}
    for year in YEARS:
        page = Page(result.provincial[year])
        for metric, column in columns.items():
            shown = page.one(data_metric=metric, data_role="value")
            assert shown.value == region[year][column], (year, metric)
        counties_ready = page.one(data_metric="counties_ready", data_role="value")
        assert counties_ready.value == ready[year]["ready"]
        assert page.one(data_metric="counties", data_role="of").value == ready[year]["counties"]
        # Human text: percent with one decimal.
        cov = page.one(data_metric="coverage_ratio", data_role="value")
        assert cov.text == f"{region[year]['coverage_ratio'] * 100:.1f}%"
        assert "青海省" in page.elements[0].text

    first, second = YEARS
    assert Page(result.provincial[first]).find(data_role="delta") == []
    page = Page(result.provincial[second])
    for metric, column in columns.items():
        change = page.one(data_metric=metric, data_role="delta")
        assert change.value == region[second][column] - region[first][column], metric
        assert Decimal(change.get("data-previous") or "nan") == region[first][column]
    ready_change = page.one(data_metric="counties_ready", data_role="delta")
    assert ready_change.value == ready[second]["ready"] - ready[first]["ready"] == 1


def test_bar_charts_sorted_with_policy_target(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    charts = {"chart-coverage": ("county_multimedia_coverage", "coverage_ratio"),
              "chart-connected": ("county_broadband", "connected_share"),
              "chart-100mbps": ("county_broadband", "share_100mbps_plus")}
    for year in YEARS:
        page = Page(result.provincial[year])
        for chart, (table, column) in charts.items():
            rows = query(dsn, f"SELECT county_code, {column} AS v FROM marts.{table}"
                              " WHERE school_year = %s", (year,))
            bars = [e for e in page.elements
                    if e.tag == "g" and "bar" in e.classes() and e.within(data_chart=chart)]
            assert {b.get("data-county"): b.value for b in bars} == {
                r["county_code"]: r["v"] for r in rows}
            values = [b.value for b in bars]
            assert values == sorted(values, reverse=True), chart
            # Bars reaching the 100 % policy target are marked as meeting it, the rest not.
            for b in bars:
                assert ("meets" in b.classes()) == (b.value is not None and b.value >= 1)
            target = [e for e in page.elements
                      if e.tag == "g" and "target" in e.classes() and e.within(data_chart=chart)]
            assert [t.value for t in target] == [Decimal(1)]


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
        null_cell = page.one(data_county=county, data_section=section, data_indicator=indicator)
        assert null_cell.get("data-null") == "true" and null_cell.text.strip() == "—"
    assert all(n > 0 for n in seen.values()), seen


def test_readiness_table_lists_every_gap(built: tuple[str, ReportsResult]) -> None:
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
            items = [e.text for e in page.elements if e.tag == "li" and cells["gaps"] in e.parents]
            expected = [g for g in (r["gaps"] or "").split("；") if g]
            assert items == expected
    page = Page(result.provincial[2024])
    gaps = [e for e in page.elements if e.tag == "li" and e.within(id="readiness")]
    assert any("差异系数超过上限" in g.text for g in gaps)
    assert any("巩固率无法计算" in g.text for g in gaps)


def test_trend_charts_follow_the_years(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    region = {r["school_year"]: r for r in query(
        dsn, "SELECT * FROM marts.region_summary WHERE region_level = 'province'")}
    page = Page(result.provincial[YEARS[0]])  # trends span all years on every year's page
    for metric in ("coverage_ratio", "share_100mbps_plus", "students"):
        points = [e for e in page.elements
                  if e.tag == "circle" and e.within(data_chart=f"trend-{metric}")]
        assert {int(p.get("data-year") or 0): p.value for p in points} == {
            y: region[y][metric] for y in YEARS}


def test_submission_status_table(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    for year in YEARS:
        page = Page(result.provincial[year])
        rows = query(dsn, "SELECT * FROM marts.submission_status WHERE school_year = %s",
                     (year,))
        shown = {e.parents[-1].get("data-county"): e.get("data-value")
                 for e in page.find(data_field="status")}
        assert shown == {r["county_code"]: r["status"] for r in rows}
        counts = {s: sum(1 for r in rows if r["status"] == s)
                  for s in ("accepted", "rejected", "missing")}
        assert (f"已接收 {counts['accepted']} 个县，已拒收 {counts['rejected']} 个县，"
                f"未报送 {counts['missing']} 个县") in page.source
    page = Page(result.provincial[2024])
    reasons = page.find(data_field="last_rejection_reason")
    assert any("缺少必填列" in r.text for r in reasons)


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
                          ("median_bandwidth_mbps", bb["median_bandwidth_mbps"]),
                          ("kbps_per_student", bb["kbps_per_student"])):
        assert page.one(data_scope="county", data_metric=metric).value == value, metric
    for metric in ("coverage_ratio", "connected_share", "share_100mbps_plus"):
        assert page.one(data_scope="province", data_metric=metric).value == region[metric]
    # Not in this region_summary: recomputed from county totals (Σ numerators / Σ denominators).
    totals = query(dsn, "SELECT sum(schools_fully_covered)::numeric / sum(schools) AS full"
                        " FROM marts.county_multimedia_coverage WHERE school_year = %s",
                   (year,))[0]
    assert close(page.one(data_scope="province", data_metric="fully_covered_share").value,
                 totals["full"])
    shares10 = query(dsn, "SELECT sum(schools_10mbps_plus)::numeric / sum(schools) AS s"
                          " FROM marts.county_broadband WHERE school_year = %s", (year,))[0]
    assert close(page.one(data_scope="province", data_metric="share_10mbps_plus").value,
                 shares10["s"])

    # Teacher ratios per section, county vs province.
    for r in query(dsn, "SELECT * FROM marts.county_teacher_ratios WHERE school_year = %s"
                        " AND county_code = %s", (year, code)):
        for metric in ("student_teacher_ratio", "qualified_teachers_per_100",
                       "senior_title_share"):
            cell = page.one(data_scope="county", data_section=r["section"], data_metric=metric)
            assert cell.value == r[metric]
        prov = page.one(data_scope="province", data_section=r["section"],
                        data_metric="student_teacher_ratio")
        assert prov.value == region[f"{r['section']}_student_teacher_ratio"]
        # Province per-100 figure, derived here from the school rows: Σ(x·P) / ΣP.
        expected = query(dsn, "SELECT sum(qualified_teachers_per_100 * students) / sum(students)"
                              " AS v FROM marts.school_indicators WHERE school_year = %s"
                              " AND section = %s", (year, r["section"]))[0]["v"]
        prov_q = page.one(data_scope="province", data_section=r["section"],
                          data_metric="qualified_teachers_per_100")
        assert close(prov_q.value, expected)

    # 2017 indicators: county mean, threshold (from the gaps mart), province mean, CV.
    for r in query(dsn, "SELECT * FROM marts.county_indicator_cv WHERE school_year = %s"
                        " AND county_code = %s AND method = '2017'", (year, code)):
        key = {"data_section": r["section"], "data_indicator": r["indicator"]}
        assert page.one(data_field="county_value", **key).value == r["county_value"]
        assert page.one(data_field="cv", **key).value == r["cv"]
        assert page.one(data_field="cv_limit", **key).value == r["cv_limit"]
        ok = page.one(data_field="cv_ok", **key).get("data-value")
        assert ok == {True: "true", False: "false", None: ""}[r["cv_ok"]]
        thresholds = {t["threshold"] for t in query(
            dsn, "SELECT DISTINCT threshold FROM marts.school_resource_gaps"
                 " WHERE school_year = %s AND section = %s AND indicator = %s",
            (year, r["section"], r["indicator"]))}
        shown = page.one(data_field="threshold", **key).value
        assert shown == (thresholds.pop() if thresholds else None)
        xbar = query(dsn, f"SELECT sum({r['indicator']} * students) / sum(students) AS v"
                          " FROM marts.school_indicators WHERE school_year = %s"
                          " AND section = %s AND in_balance_scope AND students > 0",
                     (year, r["section"]))[0]["v"]
        assert close(page.one(data_field="province_value", **key).value, xbar)

    # 一县一案 work list: every gap of the county, with its shortfall, non-compliant first.
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
    order = [next(g["compliant"] for g in gaps if g["school_code"] == tr.get("data-school")
                  and g["section"] == tr.get("data-section")) for tr in rows]
    assert order == sorted(order)  # False (non-compliant) before True
    assert any(tr.get("data-school") == INJECTION_SCHOOL for tr in rows)

    status = query(dsn, "SELECT * FROM marts.submission_status WHERE school_year = %s"
                        " AND county_code = %s", (year, code))[0]
    assert page.one(data_field="status").get("data-value") == status["status"]
    assert page.one(data_field="warnings").get("data-value") == str(status["warnings"])
    readiness = query(dsn, "SELECT * FROM marts.county_balance_readiness"
                           " WHERE school_year = %s AND county_code = %s", (year, code))[0]
    assert page.one(data_field="ready").get("data-value") == "false"
    items = [e.text for e in page.elements if e.tag == "li" and e.within(data_field="gaps")]
    assert items == readiness["gaps"].split("；")


def test_scorecards_of_rejected_and_missing_counties(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    rejected = Page(result.counties[2024][REJECTED_COUNTY[0]])
    assert rejected.one(data_field="status").get("data-value") == "rejected"
    assert "缺少必填列" in rejected.one(data_field="last_rejection_reason").text
    assert REJECTED_COUNTY[1] in rejected.elements[0].text
    missing = Page(result.counties[2024][MISSING_COUNTY[0]])
    assert missing.one(data_field="status").get("data-value") == "missing"
    assert "未报送" in missing.one(data_field="status").text
    assert missing.one(data_field="ready").get("data-value") == ""


def test_selected_years_only_and_deterministic(marts: str, tmp_path: Path) -> None:
    first = build_reports(marts, tmp_path / "a", years=[2024], links=LINKS)
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
    second = build_reports(marts, tmp_path / "b", years=[2024], links=LINKS)
    assert first.provincial[2024].read_bytes() == second.provincial[2024].read_bytes()
    code = NOT_READY_COUNTY
    assert first.counties[2024][code].read_bytes() == second.counties[2024][code].read_bytes()


def test_no_marts_yet_gives_an_empty_index(warehouse: str, tmp_path: Path) -> None:
    result = build_reports(warehouse, tmp_path / "r")
    assert result.years == [] and result.provincial == {}
    assert "school_indicators" in result.missing_tables
    assert "尚无统计数据" in result.index.read_text(encoding="utf-8")


def test_human_formatting() -> None:
    assert pct(Decimal("0.95266")) == "95.3%"
    assert pct(None) == "—"
    assert delta(Decimal("0.036"), "pct") == "+3.6 个百分点"
    assert delta(Decimal("-12"), "count") == "−12"
    assert as_list(["缺少音乐教室", None, " "]) == ["缺少音乐教室"]
    assert as_list("小学差异系数超限；巩固率未知") == ["小学差异系数超限", "巩固率未知"]
    assert as_list(None) == []
