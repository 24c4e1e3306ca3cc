"""The Excel export: one sheet per mart, fully in Chinese, the marts' values exactly.

Protects what a ministry analyst opens: every mart of the year (as the dbt contracts declare
them, new marts included without code changes) on its own sheet named by its Chinese label,
headers the columns' Chinese labels with units, codes written as their one label of the
code_labels seed (小学/初中, 已接收/已退回/未报送, 省级/地级/县级) and booleans as 是/否, a frozen
header row and an autofilter; every cell read back with openpyxl equals the mart (numbers
exactly, codes through the seed's labels); shares formatted as percentages, CVs and ratios as
fixed decimals; and a school named `=HYPERLINK(...)` stays a text cell — no formula anywhere.
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
from edustat.reports.interface import Mart, load_interface
from edustat.reports.labels import codes
from edustat.reports.xlsx import Column, Workbook
from fixtures_marts import INJECTION_NAME, INJECTION_SCHOOL, YEARS, marts, marts_template

__all__ = ["marts", "marts_template"]

BEIJING = ZoneInfo("Asia/Shanghai")
INTERFACE = load_interface()


@pytest.fixture
def built(marts: str, tmp_path: Path) -> tuple[str, ReportsResult]:
    return marts, build_reports(marts, tmp_path / "reports", pdf=False)


def mart_rows(dsn: str, mart: Mart, year: int, where: str = "", params: tuple[Any, ...] = ()
              ) -> list[dict[str, Any]]:
    """A mart's rows of a year in the workbook's order (its grain)."""
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(f"SELECT * FROM marts.{mart.name} WHERE school_year = %s {where}"
                            " ORDER BY " + ", ".join(mart.grain), (year, *params)).fetchall()


def shown(mart: Mart, column: str, value: Any) -> Any:
    """What the workbook shows for a mart value: codes and booleans by their labels."""
    c = mart.column(column)
    if value is None:
        return None
    if c.format == "bool":
        return codes("boolean")["true" if value else "false"]
    if c.codes:
        return codes(c.codes)[str(value)]
    if isinstance(value, list):  # a list of codes (text[]): one cell, items joined by "；"
        return "；".join(value)
    return value


def same(cell: Any, value: Any) -> bool:
    if value is None:
        return cell is None
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        # Excel stores IEEE doubles written with 16 significant digits.
        return isinstance(cell, int | float) and math.isclose(cell, float(value), rel_tol=1e-15)
    if isinstance(value, datetime):
        return cell == value.astimezone(BEIJING).replace(tzinfo=None)
    return cell == str(value)


def assert_sheet_equals(ws: Any, mart: Mart, rows: list[dict[str, Any]]) -> None:
    assert [c.value for c in ws[1]] == [c.header for c in mart.columns], ws.title
    assert ws.max_row == len(rows) + 1, ws.title
    for r, record in enumerate(rows, start=2):
        for i, column in enumerate(mart.names, start=1):
            cell = ws.cell(row=r, column=i).value
            assert same(cell, shown(mart, column, record[column])), \
                (ws.title, column, cell, record[column])


def test_one_sheet_per_declared_mart_in_chinese(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    for year in YEARS:
        wb = openpyxl.load_workbook(result.excel[year])
        assert wb.sheetnames == ["说明", *(m.label for m in INTERFACE)]
        for mart in INTERFACE:
            ws = wb[mart.label]
            headers = [c.value for c in ws[1]]
            assert headers == [c.header for c in mart.columns]
            # Chinese on every header: no English identifier left.
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in headers), headers
            assert ws.freeze_panes == "A2"
            assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
        headers = [c.value for c in wb["县域网络多媒体教室"][1]]
        assert "网络多媒体教室覆盖率" in headers
        assert "学校出口带宽中位数（Mbps）" in [c.value for c in wb["县域宽带接入"][1]]


def test_cells_equal_the_marts_with_codes_as_labels(built: tuple[str, ReportsResult]) -> None:
    dsn, result = built
    seen: set[str] = set()
    for year in YEARS:
        wb = openpyxl.load_workbook(result.excel[year])
        for mart in INTERFACE:
            rows = mart_rows(dsn, mart, year)
            assert rows, (mart.name, year)
            assert_sheet_equals(wb[mart.label], mart, rows)
            for row in wb[mart.label].iter_rows(min_row=2, values_only=True):
                seen.update(v for v in row if isinstance(v, str))
    # The codes the marts store never reach the workbook; their labels do.
    assert {"小学", "初中", "已接收", "已退回", "未报送", "是", "否", "省级", "县级"} <= seen
    assert not {"primary", "junior", "accepted", "rejected", "missing", "TRUE", "FALSE",
                "true", "false", "province", "county"} & seen


def test_number_formats(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    wb = openpyxl.load_workbook(result.excel[2024])

    def fmt_of(table: str, column: str) -> str:
        mart = INTERFACE[table]
        return wb[mart.label].cell(row=2, column=mart.names.index(column) + 1).number_format

    assert fmt_of("county_multimedia_coverage", "coverage_ratio") == "0.00%"
    assert fmt_of("county_broadband", "share_100mbps_plus") == "0.00%"
    assert fmt_of("county_balance_readiness", "junior_retention_rate") == "0.00%"
    assert fmt_of("county_indicator_cv", "cv") == "0.0000"
    assert fmt_of("county_indicator_cv", "cv_limit") == "0.0000"
    assert fmt_of("county_multimedia_coverage", "schools") == "0"
    assert fmt_of("county_teacher_ratios", "teachers") == "0"
    # A ratio that is not a share keeps two decimals, not a percent sign.
    assert fmt_of("county_teacher_ratios", "student_teacher_ratio") == "0.00"
    assert fmt_of("submission_status", "accepted_at") == "yyyy-mm-dd hh:mm:ss"


def test_formula_injection_is_text(built: tuple[str, ReportsResult]) -> None:
    _, result = built
    path = result.excel[2024]
    wb = openpyxl.load_workbook(path)
    mart = INTERFACE["school_indicators"]
    ws = wb[mart.label]
    code_col = mart.names.index("school_code")
    name_col = mart.names.index("school_name")
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
        count = wb.add_table("表", [Column("文本", 10, "num", "text"),
                                    Column("数值", 10, "num", "number")],
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
