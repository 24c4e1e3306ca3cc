"""Reports at national scale: a national page of province rows, one page per province, the
per-province Excel layout and the scoped (incremental) rebuild.

Protects, on marts of two provinces (the fixture's 青海 63 and a copy of it as 甘肃 62):
- the layout of a year spanning several provinces: `<year>/index.html` is a national page with
  one row per province (counties reporting/expected, headline figures equal to region_summary,
  no per-county bar chart) linking each province's own report `<year>/province/<code>.html`;
  county names that repeat across the country carry their prefecture (城东区（兰州市）);
  one workbook per province with every mart's sheet restricted to it (cells equal the marts),
  a year workbook with the county/region-grain marts of the whole country and a 说明 sheet
  listing the province workbooks; a scorecard links its province's report and workbook and
  compares its county with its own province; no formula anywhere;
- a scoped rebuild (`counties=`): after one county's data changed it rewrites exactly its
  province's report and scorecards, the national page, the index and the workbooks holding the
  county; every other file keeps its bytes and mtime; the rewritten pages show the new values
  and equal what a full rebuild writes; a year without pages yet, or a single-province year,
  is handled whole.
"""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import psycopg
import pytest
from psycopg.rows import dict_row

from edustat.reports import build_reports
from fixtures_marts import COUNTIES, INJECTION_NAME, NOT_READY_COUNTY, YEARS, marts, marts_template
from test_reports import Page, assert_links_resolve
from test_reports_excel import INTERFACE, assert_sheet_equals, mart_rows

__all__ = ["marts", "marts_template"]

QINGHAI, GANSU = "630000", "620000"
# The fixture's counties, copied into 甘肃 with the same last four digits.
GANSU_COUNTY = "62" + NOT_READY_COUNTY[2:]
CODE_COLUMNS = ("county_code", "school_code", "region_code", "prefecture_code",
                "province_code")


def query(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def add_gansu(dsn: str) -> None:
    """Copy every mart row of 青海 as 甘肃 (codes 63… -> 62…), with its own province figures."""
    with psycopg.connect(dsn) as conn:
        for mart in INTERFACE:
            conn.execute(f"CREATE TEMP TABLE copy AS SELECT * FROM marts.{mart.name}")
            sets = ", ".join(f"{c} = '62' || substr({c}, 3)" for c in CODE_COLUMNS
                             if c in mart)
            conn.execute(f"UPDATE copy SET {sets}")
            conn.execute(f"INSERT INTO marts.{mart.name} SELECT * FROM copy")
            conn.execute("DROP TABLE copy")
        conn.execute("UPDATE marts.region_summary SET region_name = '甘肃省',"
                     " coverage_ratio = coverage_ratio / 2 WHERE region_code = %s", (GANSU,))
        conn.execute("UPDATE marts.region_summary SET region_name = '兰州市'"
                     " WHERE region_code = '620100'")


@pytest.fixture
def national(marts: str) -> str:
    add_gansu(marts)
    return marts


def province_rows(dsn: str, table: str, year: int, province: str | None = None
                  ) -> list[dict[str, Any]]:
    mart = INTERFACE[table]
    if province is None:
        return mart_rows(dsn, mart, year)
    key = "province_code" if "province_code" in mart else "left(region_code, 2) || '0000'"
    return mart_rows(dsn, mart, year, f"AND {key} = %s", (province,))


def test_national_page_province_pages_and_workbooks(national: str, tmp_path: Path) -> None:
    result = build_reports(national, tmp_path / "r", pdf=False)
    for year in YEARS:
        year_dir = tmp_path / "r" / str(year)
        files = {p: year_dir / "provinces" / f"edustat_{year}_{p}.xlsx" for p in (GANSU, QINGHAI)}
        assert result.province_excel[year] == files
        assert result.excel[year] == year_dir / f"edustat_{year}.xlsx"
        assert result.provinces[year] == {p: year_dir / "province" / f"{p}.html"
                                          for p in (GANSU, QINGHAI)}

        # The national page: one row per province, the figures of its region_summary row.
        page = Page(result.provincial[year])
        assert not page.find(data_chart="chart-coverage")
        for r in query(national, "SELECT * FROM marts.region_summary WHERE school_year = %s"
                                 " AND region_level = 'province'", (year,)):
            row = page.one(data_province=r["region_code"])
            cells = {e.get("data-metric") or e.get("data-field"): e for e in page.elements
                     if row in e.parents}
            assert cells["counties_reporting"].text == str(r["counties_reporting"])
            assert cells["counties_expected"].text == str(r["counties_expected"])
            for metric in ("schools", "students", "coverage_ratio", "connected_share"):
                assert cells[metric].value == r[metric], metric
            link = page.one(data_link=f"province-{r['region_code']}").get("href")
            assert link == f"province/{r['region_code']}.html"
            excel = page.one(data_link=f"excel-{r['region_code']}").get("href")
            assert (year_dir / excel).resolve() == files[r["region_code"]].resolve()

        # The year workbook: county/region-grain marts of the whole country, no school rows.
        wb = openpyxl.load_workbook(result.excel[year])
        small = [m for m in INTERFACE if not m.school_grain]
        assert wb.sheetnames == ["说明", *(m.label for m in small)]
        for mart in small:
            assert_sheet_equals(wb[mart.label], mart, province_rows(national, mart.name, year))
        note = [str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value]
        for path in files.values():
            assert f"provinces/{path.name}" in note
        assert "甘肃省" in note and "青海省" in note

        # A province workbook: every mart, restricted to the province.
        for province, path in files.items():
            wb = openpyxl.load_workbook(path)
            assert wb.sheetnames == ["说明", *(m.label for m in INTERFACE)]
            for mart in INTERFACE:
                rows = province_rows(national, mart.name, year, province)
                assert rows, (mart.name, province)
                assert_sheet_equals(wb[mart.label], mart, rows)

        # A scorecard links its province's report and workbook.
        card = Page(result.counties[year][GANSU_COUNTY])
        assert card.one(data_link="province").get("href") == f"../province/{GANSU}.html"
        assert card.one(data_link="excel").get("href") == \
            f"../provinces/edustat_{year}_{GANSU}.xlsx"
    assert_links_resolve(result)

    # Names that repeat across the country carry their prefecture.
    gansu = Page(result.provinces[2024][GANSU])
    names = {e.get("data-county"): e.text for e in gansu.elements
             if e.tag == "a" and e.get("data-county")}
    assert names[GANSU_COUNTY] == f"{COUNTIES[NOT_READY_COUNTY]}（兰州市）"
    qinghai = Page(result.provinces[2024][QINGHAI])
    names = {e.get("data-county"): e.text for e in qinghai.elements
             if e.tag == "a" and e.get("data-county")}
    assert names[NOT_READY_COUNTY] == f"{COUNTIES[NOT_READY_COUNTY]}（西宁市）"

    # Scorecards compare with their own province (甘肃's coverage was halved above).
    region = {r["region_code"]: r for r in query(
        national, "SELECT * FROM marts.region_summary WHERE school_year = 2024"
                  " AND region_level = 'province'")}
    for county, province in ((GANSU_COUNTY, GANSU), (NOT_READY_COUNTY, QINGHAI)):
        card = Page(result.counties[2024][county])
        shown = card.one(data_scope="province", data_metric="coverage_ratio").value
        assert shown == region[province]["coverage_ratio"]
    assert region[GANSU]["coverage_ratio"] != region[QINGHAI]["coverage_ratio"]


def test_province_workbooks_stay_free_of_formulas(national: str, tmp_path: Path) -> None:
    result = build_reports(national, tmp_path / "r", years=[2024], pdf=False)
    path = result.province_excel[2024][GANSU]
    mart = INTERFACE["school_indicators"]
    ws = openpyxl.load_workbook(path)[mart.label]
    name_col = mart.names.index("school_name")
    hits = [row[name_col] for row in ws.iter_rows(min_row=2) if row[name_col].value ==
            INJECTION_NAME]
    assert hits and all(cell.data_type == "s" for cell in hits)
    for book in (result.excel[2024], *result.province_excel[2024].values()):
        with zipfile.ZipFile(book) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def snapshot_files(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in root.rglob("*") if p.is_file()}


def change_county(dsn: str, county: str, province: str, year: int) -> Decimal:
    """What a resubmission of `county` does to the marts: its coverage and its province's."""
    new = Decimal("0.123456789")
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE marts.county_multimedia_coverage SET coverage_ratio = %s"
                     " WHERE school_year = %s AND county_code = %s", (new, year, county))
        conn.execute("UPDATE marts.region_summary SET coverage_ratio = %s WHERE school_year = %s"
                     " AND region_level = 'province' AND region_code = %s",
                     (new / 2, year, province))
        conn.execute("UPDATE marts.school_resource_gaps SET shortfall = shortfall + 1"
                     " WHERE school_year = %s AND county_code = %s", (year, county))
    return new


def test_scoped_rebuild_rewrites_exactly_what_the_change_touches(
        national: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    build_reports(national, out, pdf=False)
    before = snapshot_files(out)
    new = change_county(national, NOT_READY_COUNTY, QINGHAI, 2024)

    result = build_reports(national, out, counties={2024: [NOT_READY_COUNTY]}, pdf=False)
    assert result.years == [2024] and result.scoped == [2024]
    after = snapshot_files(out)
    assert set(after) == set(before)
    touched = {name for name in after if after[name][0] != before[name][0]}
    qinghai = {f"2024/county/{c}.html" for c in result.counties[2024]}
    assert {c[:2] for c in result.counties[2024]} == {"63"}
    assert len(qinghai) == 5
    assert touched == {"index.html", "2024/index.html", "2024/province/630000.html",
                       "2024/edustat_2024.xlsx", "2024/provinces/edustat_2024_630000.xlsx",
                       *qinghai}
    for name in set(after) - touched:
        assert after[name][1] == before[name][1], name

    # The rebuilt pages show the new figures: the county's, its province's on every scorecard.
    card = Page(out / "2024" / "county" / f"{NOT_READY_COUNTY}.html")
    assert card.one(data_scope="county", data_metric="coverage_ratio").value == new
    for county, path in result.counties[2024].items():
        if county in COUNTIES:  # the others have no data this year, hence no comparison
            assert Page(path).one(data_scope="province",
                                  data_metric="coverage_ratio").value == new / 2
    gaps = query(national, "SELECT school_code, section, indicator, shortfall"
                           " FROM marts.school_resource_gaps WHERE school_year = 2024"
                           " AND county_code = %s", (NOT_READY_COUNTY,))
    for g in gaps:
        row = card.one(data_school=g["school_code"], data_section=g["section"],
                       data_indicator=g["indicator"])
        shortfall = [e for e in card.elements if row in e.parents
                     and e.get("data-field") == "shortfall"]
        assert shortfall[0].value == g["shortfall"]
    mart = INTERFACE["county_multimedia_coverage"]
    ws = openpyxl.load_workbook(out / "2024" / "provinces" / "edustat_2024_630000.xlsx")[
        mart.label]
    assert_sheet_equals(ws, mart, province_rows(national, mart.name, 2024, QINGHAI))

    # What the scoped build left and rewrote is what a full build writes now.
    full = tmp_path / "full"
    build_reports(national, full, pdf=False)
    for page in (p for p in out.rglob("*.html")):
        assert page.read_bytes() == (full / page.relative_to(out)).read_bytes(), page


def test_scoped_year_without_pages_is_built_whole(national: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    build_reports(national, out, years=[2023], pdf=False)
    result = build_reports(national, out, counties={2024: [NOT_READY_COUNTY]}, pdf=False)
    assert result.scoped == []
    assert set(result.counties[2024]) == {r["county_code"] for r in query(
        national, "SELECT county_code FROM marts.submission_status WHERE school_year = 2024")}
    assert set(result.province_excel[2024]) == {GANSU, QINGHAI}
    assert_links_resolve(result)


def test_scoped_single_province_rewrites_the_year_workbook(marts: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    build_reports(marts, out, pdf=False)
    before = snapshot_files(out)
    new = change_county(marts, NOT_READY_COUNTY, QINGHAI, 2024)
    result = build_reports(marts, out, counties={2024: [NOT_READY_COUNTY]}, pdf=False)
    assert result.scoped == [2024] and result.province_excel[2024] == {}
    after = snapshot_files(out)
    touched = {name for name in after if after[name][0] != before[name][0]}
    assert touched == {"index.html", "2024/index.html", "2024/edustat_2024.xlsx",
                       *(f"2024/county/{c}.html" for c in result.counties[2024])}
    assert not (out / "2024" / "provinces").exists()
    mart = INTERFACE["county_multimedia_coverage"]
    ws = openpyxl.load_workbook(out / "2024" / "edustat_2024.xlsx")[mart.label]
    rows = province_rows(marts, mart.name, 2024)
    assert new in {r["coverage_ratio"] for r in rows}
    assert_sheet_equals(ws, mart, rows)
