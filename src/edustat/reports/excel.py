"""The Excel export of a school year: one sheet per mart, Chinese headers, safe against injection.

Layout, by how many provinces the year's data spans:

- ONE province (a provincial deployment, the demo, the tests): `<year>/edustat_<year>.xlsx`,
  a 说明 sheet and one sheet per mart.
- SEVERAL provinces (a national deployment): one workbook per province,
  `<year>/provinces/edustat_<year>_<province_code>.xlsx`, with 说明 and one sheet per mart
  restricted to that province; and the year workbook `<year>/edustat_<year>.xlsx` with every
  county/region-grain mart for the whole country, whose 说明 sheet lists the province workbooks
  in place of the two school-grain sheets.
  Why: nationally the school-grain marts hold ~1 M rows a year (Excel's limit is 1,048,576 a
  sheet); such a workbook takes minutes to write, is hard to open, and would be rewritten whole
  whenever one county resubmits. Per province, a resubmission rewrites its province's workbook
  and the year workbook (~100 k county-grain rows) only.

Cells are written by column type (see xlsx.py): text is always an inline string, never a
formula, so a school name such as `=HYPERLINK(...)` or `+86…` stays text.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edustat.reports.constants import (
    INDICATOR_LABELS,
    REGION_LEVEL_LABELS,
    SECTION_LABELS,
    STATUS_LABELS,
)
from edustat.reports.labels import TABLE_LABELS, column_label
from edustat.reports.marts import MART_TABLES, SCHOOL_TABLES, Snapshot, TableInfo
from edustat.reports.xlsx import DATETIME_OIDS, Bold, Column, Workbook

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


def sheet_name(table: str) -> str:
    """The sheet of a mart: its Chinese name (Excel limits names to 31 characters)."""
    return TABLE_LABELS.get(table, table)[:31]


def year_workbook(year: int) -> str:
    """The year workbook, relative to the year's folder."""
    return f"edustat_{year}.xlsx"


def province_workbook(year: int, province: str) -> str:
    """A province workbook, relative to the year's folder."""
    return f"provinces/edustat_{year}_{province}.xlsx"


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


def _columns(info: TableInfo) -> list[Column]:
    out = []
    for name, oid in zip(info.columns, info.types, strict=True):
        label = column_label(name)
        style = "datetime" if oid in DATETIME_OIDS else column_kind(name, info.int_columns)
        out.append(Column(label, max(10, min(40, len(label) * 2 + 2)), style, oid))
    return out


@dataclass
class YearExport:
    """Workbooks written for a year: the year workbook and the province workbooks."""

    year: Path
    provinces: dict[str, Path] = field(default_factory=dict)


def export_year(snap: Snapshot, year: int, year_dir: Path, provinces: Sequence[str],
                province_names: Mapping[str, str],
                only: Collection[str] | None = None) -> YearExport:
    """Write the year's workbooks (layout: module docstring) under `year_dir`. With several
    provinces, `only` limits the province workbooks rewritten (None: all of them)."""
    tables = [t for t in MART_TABLES if t in snap.tables]
    path = year_dir / year_workbook(year)
    if len(provinces) <= 1:
        with _atomic(path) as wb:
            counts = {t: _sheet(wb, snap.tables[t], _whole(snap, t, year)) for t in tables}
            _readme(wb, year, None, counts, {})
        return YearExport(path)

    files = {p: province_workbook(year, p) for p in provinces}
    with _atomic(path) as wb:
        counts = {t: _sheet(wb, snap.tables[t], _whole(snap, t, year))
                  for t in tables if t not in SCHOOL_TABLES}
        _readme(wb, year, None, counts, {p: (province_names.get(p, p), files[p])
                                         for p in provinces})
    export = YearExport(path)
    wanted = sorted(set(provinces) if only is None else set(provinces) & set(only))
    if not wanted:
        return export
    with ExitStack() as stack:
        # One ordered stream per mart, cut into provinces as the workbooks are written.
        streams = {t: _ByProvince(stack.enter_context(snap.stream(t, year, wanted)))
                   for t in tables}
        for province in wanted:
            target = year_dir / files[province]
            with _atomic(target) as wb:
                counts = {t: _sheet(wb, snap.tables[t], streams[t].take(province))
                          for t in tables}
                _readme(wb, year, (province, province_names.get(province, province)), counts,
                        {})
            export.provinces[province] = target
    return export


def _whole(snap: Snapshot, table: str, year: int) -> Iterator[tuple[Any, ...]]:
    with snap.stream(table, year) as rows:
        yield from rows


class _ByProvince:
    """Rows ordered by province (first field), handed out one province at a time."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next = next(rows, None)

    def take(self, province: str) -> Iterator[tuple[Any, ...]]:
        # Provinces are taken in the stream's order: rows before `province` belong to none.
        while self._next is not None and self._next[0] < province:
            self._next = next(self._rows, None)
        while self._next is not None and self._next[0] == province:
            yield self._next[1:]
            self._next = next(self._rows, None)


def _sheet(wb: Workbook, info: TableInfo, rows: Iterable[Sequence[Any]]) -> int:
    return wb.add_table(sheet_name(info.name), _columns(info), rows)


@contextmanager
def _atomic(path: Path) -> Iterator[Workbook]:
    """A workbook written aside and renamed into place: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with Workbook(tmp) as wb:
            yield wb
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _readme(wb: Workbook, year: int, province: tuple[str, str] | None, counts: dict[str, int],
            province_files: dict[str, tuple[str, str]]) -> None:
    """The 说明 sheet, first in the workbook: what each sheet holds, codes, other workbooks."""
    where = f"{province[1]}（{province[0]}）" if province else ""
    lines: list[list[Any]] = [
        [Bold(f"edustat 统计年度 {year} {where}数据导出（来自数据仓库 marts 层）"), None, None],
        [None, None, None],
        [Bold("工作表"), Bold("数据表"), Bold("行数")],
    ]
    lines += [[sheet_name(t), f"marts.{t}", n] for t, n in counts.items()]
    if province_files:
        lines += [[None, None, None],
                  [Bold("学校级数据（学校指标、学校资源缺口）按省分册"), None, None],
                  [Bold("省级区划代码"), Bold("省份"), Bold("文件")]]
        lines += [[code, name, file] for code, (name, file) in province_files.items()]
    lines += [[None, None, None], [Bold("代码说明"), None, None]]
    codes = {**SECTION_LABELS, **STATUS_LABELS, **REGION_LEVEL_LABELS,
             "2017": "优质均衡督导评估办法（教督〔2017〕6号）",
             "2012": "基本均衡督导评估暂行办法（教督〔2012〕3号）", **INDICATOR_LABELS}
    lines += [[code, text, None] for code, text in codes.items()]
    wb.add_note("说明", (28, 36, 60), lines, first=True)
