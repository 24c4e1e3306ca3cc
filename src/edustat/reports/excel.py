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

from edustat.reports import labels
from edustat.reports.interface import Column as MartColumn
from edustat.reports.interface import Mart
from edustat.reports.marts import Snapshot
from edustat.reports.xlsx import Bold, Column, Workbook, value_kind

# Excel number format (xlsx.STYLES) of each display format of the interface.
STYLE_OF_FORMAT: dict[str, str] = {
    "year": "id", "id": "id", "count": "count", "pct": "pct", "ratio": "num", "decimal": "num",
    "cv": "cv", "datetime": "datetime", "code": "default", "text": "default", "bool": "default",
}


def sheet_name(mart: Mart) -> str:
    """The sheet of a mart: its declared Chinese name (Excel limits names to 31 characters)."""
    return mart.label[:31]


def year_workbook(year: int) -> str:
    """The year workbook, relative to the year's folder."""
    return f"edustat_{year}.xlsx"


def province_workbook(year: int, province: str) -> str:
    """A province workbook, relative to the year's folder."""
    return f"provinces/edustat_{year}_{province}.xlsx"


def code_labels(column: MartColumn) -> dict[str, str] | None:
    """The labels a column's values are written as: its code set, 是/否 for booleans."""
    if column.format == "bool":
        return labels.codes("boolean")
    return labels.codes(column.codes) if column.codes else None


def _columns(mart: Mart) -> list[Column]:
    out = []
    for c in mart.columns:
        header = c.header
        out.append(Column(header, max(10, min(40, len(header) * 2 + 2)),
                          STYLE_OF_FORMAT[c.format], value_kind(c.data_type), code_labels(c)))
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
    marts = list(snap.interface)
    path = year_dir / year_workbook(year)
    if len(provinces) <= 1:
        with _atomic(path) as wb:
            counts = {m: _sheet(wb, m, _whole(snap, m.name, year)) for m in marts}
            _readme(wb, year, None, counts, {})
        return YearExport(path)

    files = {p: province_workbook(year, p) for p in provinces}
    with _atomic(path) as wb:
        counts = {m: _sheet(wb, m, _whole(snap, m.name, year))
                  for m in marts if not m.school_grain}
        _readme(wb, year, None, counts, {p: (province_names.get(p, p), files[p])
                                         for p in provinces})
    export = YearExport(path)
    wanted = sorted(set(provinces) if only is None else set(provinces) & set(only))
    if not wanted:
        return export
    with ExitStack() as stack:
        # One ordered stream per mart, cut into provinces as the workbooks are written.
        streams = {m.name: _ByProvince(stack.enter_context(snap.stream(m.name, year, wanted)))
                   for m in marts}
        for province in wanted:
            target = year_dir / files[province]
            with _atomic(target) as wb:
                counts = {m: _sheet(wb, m, streams[m.name].take(province)) for m in marts}
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


def _sheet(wb: Workbook, mart: Mart, rows: Iterable[Sequence[Any]]) -> int:
    return wb.add_table(sheet_name(mart), _columns(mart), rows)


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


def _readme(wb: Workbook, year: int, province: tuple[str, str] | None,
            counts: dict[Mart, int], province_files: dict[str, tuple[str, str]]) -> None:
    """The 说明 sheet, first in the workbook: what each sheet holds, other workbooks."""
    where = f"{province[1]}（{province[0]}）" if province else ""
    lines: list[list[Any]] = [
        [Bold(f"edustat 统计年度 {year} {where}数据导出（来自数据仓库 marts 层）"), None, None],
        [None, None, None],
        [Bold("工作表"), Bold("数据表"), Bold("行数")],
    ]
    lines += [[sheet_name(m), f"marts.{m.name}", n] for m, n in counts.items()]
    if province_files:
        lines += [[None, None, None],
                  [Bold("学校级数据（学校指标、学校资源缺口）按省分册"), None, None],
                  [Bold("省级区划代码"), Bold("省份"), Bold("文件")]]
        lines += [[code, name, file] for code, (name, file) in province_files.items()]
    lines += [[None, None, None],
              [Bold("说明：代码列（学段、报送状态、区域层级、评估办法、是/否）以中文名称显示；比例以百分数显示，"
                    "单元格内为未经舍入的精确值。"), None, None]]
    wb.add_note("说明", (28, 36, 60), lines, first=True)
