"""One workbook per school year: one sheet per mart, Chinese headers, safe against injection.

Cells are written by type, never through xlsxwriter's generic `write()`: a school name such as
`=HYPERLINK(...)` or `+86…` must stay text (write_string), and the workbook is opened with
strings_to_formulas/strings_to_urls off as a second guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from edustat.reports.constants import (
    INDICATOR_LABELS,
    REGION_LEVEL_LABELS,
    SECTION_LABELS,
    STATUS_LABELS,
)
from edustat.reports.labels import TABLE_LABELS, column_label
from edustat.reports.marts import MART_TABLES, Table

PERCENT_COLUMNS = frozenset({
    "coverage_ratio", "fully_covered_share", "connected_share", "share_100mbps_plus",
    "share_10mbps_plus", "compliant_share", "senior_title_share", "junior_retention_rate",
})
CV_COLUMNS = frozenset({"cv", "cv_limit"})
COUNT_COLUMNS = frozenset({
    "schools", "students", "classes", "teachers", "classrooms", "multimedia_classrooms",
    "schools_fully_covered", "schools_connected", "schools_100mbps_plus", "schools_10mbps_plus",
    "school_sections", "compliant_sections", "oversize_class_schools", "large_classes",
    "oversize_schools", "music_art_room_shortfall_schools", "indicators_met",
    "primary_students", "junior_students", "primary_teachers", "junior_teachers",
    "counties", "counties_ready",
})
# Identifiers: shown without thousands separators or decimals even when numeric.
ID_COLUMNS = frozenset({
    "school_year", "accepted_submission_id", "replaced_submission_id",
    "last_rejected_submission_id",
})

FORMATS: dict[str, str] = {"pct": "0.00%", "cv": "0.0000", "count": "0", "num": "0.00",
                           "id": "0", "datetime": "yyyy-mm-dd hh:mm:ss"}


def sheet_name(table: str) -> str:
    """The sheet of a mart: its Chinese name (Excel limits names to 31 characters)."""
    return TABLE_LABELS.get(table, table)[:31]


def column_kind(column: str, int_columns: Iterable[str]) -> str:
    if column in ID_COLUMNS:
        return "id"
    if column in PERCENT_COLUMNS or column.endswith("_share") or column.endswith("_rate"):
        return "pct"
    if column in CV_COLUMNS or column.endswith("_cv"):
        return "cv"
    if column in COUNT_COLUMNS or column in set(int_columns):
        return "count"
    return "num"


def _write_readme(wb: xlsxwriter.Workbook, year: int, tables: list[Table]) -> None:
    ws = wb.add_worksheet("说明")
    bold = wb.add_format({"bold": True})
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 2, 60)
    ws.write_string(0, 0, f"edustat 统计年度 {year} 数据导出（来自数据仓库 marts 层）", bold)
    ws.write_string(2, 0, "工作表", bold)
    ws.write_string(2, 1, "数据表", bold)
    ws.write_string(2, 2, "行数", bold)
    row = 3
    for t in tables:
        ws.write_string(row, 0, sheet_name(t.name))
        ws.write_string(row, 1, f"marts.{t.name}")
        ws.write_number(row, 2, len(t.rows))
        row += 1
    row += 1
    ws.write_string(row, 0, "代码说明", bold)
    row += 1
    codes = {**SECTION_LABELS, **STATUS_LABELS, **REGION_LEVEL_LABELS,
             "2017": "优质均衡督导评估办法（教督〔2017〕6号）",
             "2012": "基本均衡督导评估暂行办法（教督〔2012〕3号）", **INDICATOR_LABELS}
    for code, text in codes.items():
        ws.write_string(row, 0, code)
        ws.write_string(row, 1, text)
        row += 1


def _cell(ws: Worksheet, row: int, col: int, value: Any, fmt: Any, dt_fmt: Any) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, datetime):
        # Excel has no time zones: the snapshot reads timestamps in Beijing time.
        ws.write_datetime(row, col, value.replace(tzinfo=None), dt_fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), dt_fmt)
    elif isinstance(value, list | tuple):
        ws.write_string(row, col, "；".join("" if v is None else str(v) for v in value))
    else:
        ws.write_string(row, col, str(value))


def write_workbook(path: Path, year: int, tables: list[Table]) -> Path:
    """Write `tables` (already filtered to `year`) to `path`, one sheet each, in MART order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = sorted(tables, key=lambda t: MART_TABLES.index(t.name)
                    if t.name in MART_TABLES else len(MART_TABLES))
    wb = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        # Row-by-row writing keeps memory flat for national school sheets.
        "constant_memory": True,
    })
    try:
        header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                "bg_color": "#E8EEF7", "border": 1})
        formats = {k: wb.add_format({"num_format": v}) for k, v in FORMATS.items()}
        _write_readme(wb, year, tables)
        for table in tables:
            ws = wb.add_worksheet(sheet_name(table.name))
            kinds = [column_kind(c, table.int_columns) for c in table.columns]
            for col, name in enumerate(table.columns):
                label = column_label(name)
                width = max(10, min(40, len(label) * 2 + 2))
                ws.set_column(col, col, width, formats[kinds[col]])
                ws.write_string(0, col, label, header)
            ws.freeze_panes(1, 0)
            if table.columns:
                ws.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
            for r, record in enumerate(table.rows, start=1):
                for col, name in enumerate(table.columns):
                    _cell(ws, r, col, record.get(name), formats[kinds[col]],
                          formats["datetime"])
    finally:
        wb.close()
    return path
