"""Reports at national scale: the per-province Excel layout and the scoped (incremental) rebuild.

Protects, on marts of two provinces (the fixture's 青海 63 and a copy of it as 甘肃 62):
- the layout of a year spanning several provinces: one workbook per province with every mart's
  sheet restricted to it (cells equal the marts), a year workbook with the county/region-grain
  marts of the whole country and a 说明 sheet listing the province workbooks instead of the
  school-grain sheets; the year page links every province workbook, a scorecard its own;
  a scorecard compares its county with its own province; no formula anywhere;
- a scoped rebuild (`counties=`): after one county's data changed it rewrites exactly its
  province's scorecards, the year page, the index and the workbooks holding the county; every
  other file keeps its bytes and mtime; the rewritten pages show the new values and equal what
  a full rebuild writes; a year without pages yet, or a single-province year, is handled whole.
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
from edustat.reports.excel import sheet_name
from edustat.reports.labels import column_label
from edustat.reports.marts import MART_TABLES, ORDER_BY, SCHOOL_TABLES
from fixtures_marts import INJECTION_NAME, NOT_READY_COUNTY, YEARS, create_marts
from test_reports import Page, assert_links_resolve
from test_reports_excel import same

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
        for table in MART_TABLES:
            columns = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
                " AND table_name = %s", (table,))]
            conn.execute(f"CREATE TEMP TABLE copy AS SELECT * FROM marts.{table}")
            sets = ", ".join(f"{c} = '62' || substr({c}, 3)" for c in CODE_COLUMNS
                             if c in columns)
            conn.execute(f"UPDATE copy SET {sets}")
            conn.execute(f"INSERT INTO marts.{table} SELECT * FROM copy")
            conn.execute("DROP TABLE copy")
        conn.execute("UPDATE marts.region_summary SET region_name = '甘肃省',"
                     " coverage_ratio = coverage_ratio / 2 WHERE region_code = %s", (GANSU,))


@pytest.fixture
def national(warehouse: str) -> str:
    create_marts(warehouse)
    add_gansu(warehouse)
    return warehouse


def mart_rows(dsn: str, table: str, year: int, province: str | None = None
              ) -> tuple[list[str], list[dict[str, Any]]]:
    """A mart's rows of a year (of one province), in the workbook's order."""
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        columns = [r["column_name"] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
            " AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]
        where = "school_year = %s"
        params: tuple[Any, ...] = (year,)
        if province is not None:
            # region_summary of the fixture has no province_code: its region code says it.
            key = "province_code" if "province_code" in columns else "left(region_code, 2)"
            where += f" AND {key} = %s"
            params += (province if key == "province_code" else province[:2],)
        rows = conn.execute(f"SELECT * FROM marts.{table} WHERE {where} ORDER BY "
                            + ", ".join(ORDER_BY[table]), params).fetchall()
    return columns, rows


def assert_sheet_equals(ws: Any, columns: list[str], rows: list[dict[str, Any]]) -> None:
    assert [c.value for c in ws[1]] == [column_label(c) for c in columns]
    assert ws.max_row == len(rows) + 1, ws.title
    for r, record in enumerate(rows, start=2):
        for c, column in enumerate(columns, start=1):
            cell = ws.cell(row=r, column=c).value
            assert same(cell, record[column]), (ws.title, column, cell, record)


def test_several_provinces_one_workbook_each(national: str, tmp_path: Path) -> None:
    result = build_reports(national, tmp_path / "r")
    for year in YEARS:
        year_dir = tmp_path / "r" / str(year)
        files = {p: year_dir / "provinces" / f"edustat_{year}_{p}.xlsx" for p in (GANSU, QINGHAI)}
        assert result.province_excel[year] == files
        assert result.excel[year] == year_dir / f"edustat_{year}.xlsx"

        # The year workbook: county/region-grain marts of the whole country, no school rows.
        wb = openpyxl.load_workbook(result.excel[year])
        small = [t for t in MART_TABLES if t not in SCHOOL_TABLES]
        assert wb.sheetnames == ["说明", *(sheet_name(t) for t in small)]
        for table in small:
            assert_sheet_equals(wb[sheet_name(table)], *mart_rows(national, table, year))
        note = [str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value]
        for path in files.values():
            assert f"provinces/{path.name}" in note
        assert "甘肃省" in note and "青海省" in note

        # A province workbook: every mart, restricted to the province.
        for province, path in files.items():
            wb = openpyxl.load_workbook(path)
            assert wb.sheetnames == ["说明", *(sheet_name(t) for t in MART_TABLES)]
            for table in MART_TABLES:
                columns, rows = mart_rows(national, table, year, province)
                assert rows, (table, province)
                assert_sheet_equals(wb[sheet_name(table)], columns, rows)

        # The year page links the province workbooks; a scorecard links its own.
        page = Page(result.provincial[year])
        for province, path in files.items():
            assert (year_dir / page.one(data_link=f"excel-{province}").get("href")).resolve() \
                == path.resolve()
        card = Page(result.counties[year][GANSU_COUNTY])
        assert card.one(data_link="excel").get("href") == \
            f"../provinces/edustat_{year}_{GANSU}.xlsx"
    assert_links_resolve(result)

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
    result = build_reports(national, tmp_path / "r", years=[2024])
    path = result.province_excel[2024][GANSU]
    ws = openpyxl.load_workbook(path)[sheet_name("school_indicators")]
    headers = [c.value for c in ws[1]]
    name_col = headers.index(column_label("school_name"))
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
    build_reports(national, out)
    before = snapshot_files(out)
    new = change_county(national, NOT_READY_COUNTY, QINGHAI, 2024)

    result = build_reports(national, out, counties={2024: [NOT_READY_COUNTY]})
    assert result.years == [2024] and result.scoped == [2024]
    after = snapshot_files(out)
    assert set(after) == set(before)
    touched = {name for name in after if after[name][0] != before[name][0]}
    qinghai = {f"2024/county/{c}.html" for c in result.counties[2024]}
    assert {c[:2] for c in result.counties[2024]} == {"63"}
    assert len(qinghai) == 5
    assert touched == {"index.html", "2024/index.html", "2024/edustat_2024.xlsx",
                       "2024/provinces/edustat_2024_630000.xlsx", *qinghai}
    for name in set(after) - touched:
        assert after[name][1] == before[name][1], name

    # The rebuilt pages show the new figures: the county's, its province's on every scorecard.
    card = Page(out / "2024" / "county" / f"{NOT_READY_COUNTY}.html")
    assert card.one(data_scope="county", data_metric="coverage_ratio").value == new
    for path in result.counties[2024].values():
        assert Page(path).one(data_scope="province", data_metric="coverage_ratio").value == \
            new / 2
    gaps = query(national, "SELECT school_code, section, indicator, shortfall"
                           " FROM marts.school_resource_gaps WHERE school_year = 2024"
                           " AND county_code = %s", (NOT_READY_COUNTY,))
    for g in gaps:
        row = card.one(data_school=g["school_code"], data_section=g["section"],
                       data_indicator=g["indicator"])
        shortfall = [e for e in card.elements if row in e.parents
                     and e.get("data-field") == "shortfall"]
        assert shortfall[0].value == g["shortfall"]
    ws = openpyxl.load_workbook(out / "2024" / "provinces" / "edustat_2024_630000.xlsx")[
        sheet_name("county_multimedia_coverage")]
    assert_sheet_equals(ws, *mart_rows(national, "county_multimedia_coverage", 2024, QINGHAI))

    # What the scoped build left and rewrote is what a full build writes now.
    full = tmp_path / "full"
    build_reports(national, full)
    for page in (p for p in out.rglob("*.html")):
        assert page.read_bytes() == (full / page.relative_to(out)).read_bytes(), page


def test_scoped_year_without_pages_is_built_whole(national: str, tmp_path: Path) -> None:
    out = tmp_path / "r"
    build_reports(national, out, years=[2023])
    result = build_reports(national, out, counties={2024: [NOT_READY_COUNTY]})
    assert result.scoped == []
    assert set(result.counties[2024]) == {r["county_code"] for r in query(
        national, "SELECT county_code FROM marts.submission_status WHERE school_year = 2024")}
    assert set(result.province_excel[2024]) == {GANSU, QINGHAI}
    assert_links_resolve(result)


def test_scoped_single_province_rewrites_the_year_workbook(warehouse: str,
                                                           tmp_path: Path) -> None:
    create_marts(warehouse)
    out = tmp_path / "r"
    build_reports(warehouse, out)
    before = snapshot_files(out)
    new = change_county(warehouse, NOT_READY_COUNTY, QINGHAI, 2024)
    result = build_reports(warehouse, out, counties={2024: [NOT_READY_COUNTY]})
    assert result.scoped == [2024] and result.province_excel[2024] == {}
    after = snapshot_files(out)
    touched = {name for name in after if after[name][0] != before[name][0]}
    assert touched == {"index.html", "2024/index.html", "2024/edustat_2024.xlsx",
                       *(f"2024/county/{c}.html" for c in result.counties[2024])}
    assert not (out / "2024" / "provinces").exists()
    ws = openpyxl.load_workbook(out / "2024" / "edustat_2024.xlsx")[
        sheet_name("county_multimedia_coverage")]
    columns, rows = mart_rows(warehouse, "county_multimedia_coverage", 2024)
    assert new in {r["coverage_ratio"] for r in rows}
    assert_sheet_equals(ws, columns, rows)
