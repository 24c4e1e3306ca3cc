"""The Excel export: one sheet per mart, the marts' values, and no formula injection.

Protects what a ministry analyst opens: every mart of the year on its own sheet with Chinese
headers, a frozen header row and an autofilter; cells equal the marts' values (read back with
openpyxl and compared with a fresh query); ratios, CVs and counts carry their number formats;
and a school named `=HYPERLINK(...)` stays a text cell — no formula anywhere in the file.
The streaming writer itself (xlsx.py): text with XML-special or control characters stays the
same text in a well-formed file, numbers keep the digits Postgres printed, and a non-finite
numeric becomes an error cell instead of a corrupt workbook.
"""

from __future__ import annotations

import math
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest
from psycopg.rows import dict_row

from edustat.reports import ReportsResult, build_reports
from edustat.reports.excel import sheet_name
from edustat.reports.labels import column_label
from edustat.reports.marts import MART_TABLES, ORDER_BY
from edustat.reports.xlsx import Column, Workbook
from fixtures_marts import INJECTION_NAME, INJECTION_SCHOOL, YEARS, create_marts

BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def built(warehouse: str, tmp_path: Path) -> tuple[str, ReportsResult]:
    create_marts(warehouse)
    return warehouse, build_reports(warehouse, tmp_path / "reports")


def mart(dsn: str, table: str, year: int) -> tuple[list[str], list[dict[str, Any]]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        columns = [r["column_name"] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'"
            " AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]
        rows = conn.execute(f"SELECT * FROM marts.{table} WHERE school_year = %s ORDER BY "
                            + ", ".join(ORDER_BY[table]), (year,)).fetchall()
    return columns, rows


def same(cell: Any, value: Any) -> bool:
    if value is None:
        return cell is None
    if isinstance(value, bool):
        return cell is value
    if isinstance(value, int | Decimal | float):
        # Excel stores IEEE doubles written with 16 significant digits.
        return isinstance(cell, int | float) and math.isclose(cell, float(value), rel_tol=1e-15)
    if isinstance(value, datetime):
        return cell == value.astimezone(BEIJING).replace(tzinfo=None)
    return cell == str(value)


def test_one_sheet_per_mart_with_chinese_headers(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    for year in YEARS:
        wb = openpyxl.load_workbook(result.excel[year])
        assert wb.sheetnames == ["说明", *(sheet_name(t) for t in MART_TABLES)]
        for table in MART_TABLES:
            ws = wb[sheet_name(table)]
            columns, rows = mart(dsn, table, year)
            headers = [c.value for c in ws[1]]
            assert headers == [column_label(c) for c in columns]
            assert ws.freeze_panes == "A2"
            assert ws.auto_filter.ref is not None
            assert ws.auto_filter.ref.startswith("A1:")
            assert ws.max_row == len(rows) + 1, table
        assert "多媒体教室覆盖率" in [c.value for c in wb["县域多媒体教室覆盖"][1]]
        assert "差异系数" in [c.value for c in wb["县域差异系数"][1]]


def test_cells_equal_the_marts(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    for year in YEARS:
        wb = openpyxl.load_workbook(result.excel[year])
        for table in MART_TABLES:
            ws = wb[sheet_name(table)]
            columns, rows = mart(dsn, table, year)
            assert rows, (table, year)
            for r, record in enumerate(rows, start=2):
                for c, column in enumerate(columns, start=1):
                    cell = ws.cell(row=r, column=c).value
                    assert same(cell, record[column]), (table, year, column, cell, record)


def test_number_formats(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    wb = openpyxl.load_workbook(result.excel[2024])

    def fmt_of(table: str, column: str) -> str:
        columns, _ = mart(dsn, table, 2024)
        return wb[sheet_name(table)].cell(row=2, column=columns.index(column) + 1).number_format

    assert fmt_of("county_multimedia_coverage", "coverage_ratio") == "0.00%"
    assert fmt_of("county_broadband", "share_100mbps_plus") == "0.00%"
    assert fmt_of("county_balance_readiness", "junior_retention_rate") == "0.00%"
    assert fmt_of("county_indicator_cv", "cv") == "0.0000"
    assert fmt_of("county_indicator_cv", "cv_limit") == "0.0000"
    assert fmt_of("county_multimedia_coverage", "schools") == "0"
    assert fmt_of("county_teacher_ratios", "teachers") == "0"
    # A ratio that is not a share keeps two decimals, not a percent sign.
    assert fmt_of("county_teacher_ratios", "student_teacher_ratio") == "0.00"


def test_formula_injection_is_text(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    path = result.excel[2024]
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet_name("school_indicators")]
    headers = [c.value for c in ws[1]]
    code_col = headers.index(column_label("school_code"))
    name_col = headers.index(column_label("school_name"))
    hits = [row for row in ws.iter_rows(min_row=2) if row[code_col].value == INJECTION_SCHOOL]
    assert hits
    for row in hits:
        assert row[name_col].data_type == "s"
        assert row[name_col].value == INJECTION_NAME
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    # And in the file itself: no <f> (formula) element in any sheet.
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_writer_keeps_text_as_text_and_numbers_exact(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    texts = ['a&b<c>"', "  前导空格", "=SUM(A1)", "+86 971", "换行\n制表\t", "ctl\x01x"]
    numbers = ["1.5", "12345.678901234567", "NaN", "-3", "-Infinity", "0.35714285714285714286"]
    with Workbook(path) as wb:
        count = wb.add_table("表", [Column("文本", 10, "num", 25), Column("数值", 10, "num", 1700)],
                             zip(texts, numbers, strict=True))
    assert count == len(texts)
    ws = openpyxl.load_workbook(path)["表"]
    cells = [row for row in ws.iter_rows(min_row=2)]
    assert all(row[0].data_type == "s" for row in cells)
    # Excel decodes _x0001_ back to the control character XML cannot carry.
    assert [row[0].value for row in cells] == [*texts[:-1], "ctl_x0001_x"]
    assert [row[1].value for row in cells] == [1.5, 12345.678901234567, "#NUM!", -3, "#NUM!",
                                               0.35714285714285714286]
    assert [row[1].data_type for row in cells] == ["n", "n", "e", "n", "e", "n"]
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    assert b"<v>0.35714285714285714286</v>" in sheet and b"<f" not in sheet
