"""Rows of a sheet (xlsx or csv alike) -> header, column mapping, canonical school rows.

This is where docs/submission-format.md's sheet rules live: header row within the first 10 rows,
header matching, blank rows, the row that ends the data, unknown and missing columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from edustat.columns import BY_KEY, HEADER_ANCHOR, HEADER_TO_KEY, KEYS, label, normalize_header
from edustat.findings import Finding
from edustat.intake.limits import ReadLimits
from edustat.intake.messages import column_letter, finding
from edustat.intake.normalize import (
    Source,
    is_blank,
    normalize_extra,
    normalize_value,
    render_cell,
    squeeze,
)
from edustat.intake.sheetscan import CellMark

HEADER_SEARCH_ROWS = 10
# Looked at past the 10 rows only to tell the county where its header actually is.
_HINT_SEARCH_ROWS = 50
END_MARKERS = ("填表说明", "注", "合计")
# Per column, formula/error cells named one by one before the rest are summarised.
_MARKS_PER_COLUMN = 20
_CODE_LIKE = re.compile(r"\d{9,10}")
ROW_COLUMNS: tuple[str, ...] = ("row_number", *KEYS, "extra")


@dataclass
class Table:
    rows: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)
    header_row: int | None = None


def empty_rows() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in ROW_COLUMNS})
    frame["row_number"] = frame["row_number"].astype("int64")
    return frame


def _text(cell: object) -> str:
    return render_cell(cell)[0]


@dataclass
class _Layout:
    """Which sheet column holds which key, and what else the header row has."""

    keys: dict[str, int] = field(default_factory=dict)  # key -> 0-based column
    unknown: dict[int, str] = field(default_factory=dict)  # column -> name used in `extra`
    blank_header: set[int] = field(default_factory=set)


def _layout(header_row: int, cells: Sequence[object], findings: list[Finding]) -> _Layout:
    layout = _Layout()
    names_used: set[str] = set()
    for col, cell in enumerate(cells):
        text = _text(cell)
        normalized = normalize_header(text)
        if not normalized:
            layout.blank_header.add(col)
            continue
        key = HEADER_TO_KEY.get(normalized)
        if key is None:
            name = squeeze(text)
            if name in names_used:
                name = f"{name}[{column_letter(col)}]"
            names_used.add(name)
            layout.unknown[col] = name
        elif key in layout.keys:
            first = column_letter(layout.keys[key])
            findings.append(finding(
                "duplicate_column",
                f"表头在{first}列和{column_letter(col)}列重复出现，无法确定使用哪一列，请删除其中一列",
                f"the header appears twice, in columns {first} and {column_letter(col)}; "
                "delete one of them",
                value=text,
                row=header_row, key=key,
            ))
        else:
            layout.keys[key] = col
    for key in KEYS:
        if key not in layout.keys and BY_KEY[key].required:
            findings.append(finding(
                "missing_column",
                "表头中缺少这一必填列，请按报送表格式补上该列",
                "this required column is missing from the header row; add it as in the form",
                row=header_row, key=key,
            ))
    return layout


def _is_end_marker(
    cells: Sequence[object], layout: _Layout, *, source: Source, county_code: str
) -> bool:
    """A 合计 / 填表说明 / 注 row: first cell of the sheet row, or its first non-empty cell.

    Counties often leave column A empty on the 合计 row or start the notes one column in, so
    the first non-empty cell counts as well (docs/submission-format.md#sheet). A row whose
    学校标识码 looks like a real code is a school whatever its first cell says (a school whose
    name starts with 注 must not end the data).
    """
    candidates = [cells[0]] if cells else []
    first_filled = next((c for c in cells if not is_blank(c)), None)
    if first_filled is not None:
        candidates.append(first_filled)
    if not any(
        isinstance(c, str) and squeeze(c).startswith(END_MARKERS) for c in candidates
    ):
        return False
    col = layout.keys.get("school_code")
    if col is not None and col < len(cells):
        code = normalize_value("school_code", cells[col], source=source, county_code=county_code)
        if code and _CODE_LIKE.fullmatch(code):
            return False
    return True


def _no_header(hint: tuple[str, str] | None) -> Finding:
    zh = f"前{HEADER_SEARCH_ROWS}行中没有找到表头单元格「{HEADER_ANCHOR}」"
    en = f"no header cell '{HEADER_ANCHOR}' in the first {HEADER_SEARCH_ROWS} rows"
    if hint:
        zh, en = f"{zh}（{hint[0]}）", f"{en} ({hint[1]})"
    return finding(
        "no_header_row", f"{zh}：请使用报送表的表头，表头行须在前{HEADER_SEARCH_ROWS}行内",
        f"{en}: use the form's header row, within the first {HEADER_SEARCH_ROWS} rows",
    )


def _header_hint(row_number: int, cells: Sequence[object]) -> tuple[str, str] | None:
    """Why a near-miss row was not taken as the header: (zh, en), or None."""
    for cell in cells:
        text = squeeze(_text(cell))
        if normalize_header(text) == HEADER_ANCHOR:
            return (
                f"表头在第{row_number}行，超出了前{HEADER_SEARCH_ROWS}行",
                f"the header is on row {row_number}, below the first {HEADER_SEARCH_ROWS}",
            )
        if HEADER_ANCHOR in text:
            return (
                f"第{row_number}行的单元格「{text[:40]}」含有「{HEADER_ANCHOR}」但不是单独一列，"
                "可能分隔符不是逗号或单元格被合并",
                f"row {row_number} has a cell containing it ('{text[:40]}') but not as a column "
                "of its own: wrong delimiter or merged cells?",
            )
    return None


class _MarkReporter:
    """Formula and error cells inside the data, per column: the first few named, then a sum."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._seen: dict[tuple[str, str], int] = {}
        self._first: dict[tuple[str, str], CellMark] = {}

    def add(self, mark: CellMark, key: str) -> None:
        slot = (mark.kind, key)
        count = self._seen.get(slot, 0) + 1
        self._seen[slot] = count
        self._first.setdefault(slot, mark)
        if count > _MARKS_PER_COLUMN:
            return
        if mark.kind == "formula":
            formula = f"={mark.text}" if mark.text else "公式"
            self.findings.append(finding(
                "formula_cell",
                f"单元格 {mark.ref} 是公式（{formula}），平台不接受公式："
                "请复制后“选择性粘贴 → 数值”再报送",
                f"cell {mark.ref} holds a formula ({formula if mark.text else 'formula'}); "
                "formulas are not accepted: copy and 'paste special > values', then resubmit",
                value=formula if mark.text else mark.ref,
                row=mark.row, key=key,
            ))
        else:
            shown = mark.text or "#错误"
            self.findings.append(finding(
                "error_cell",
                f"单元格 {mark.ref} 是错误值（{shown}），请填写正确的数值",
                f"cell {mark.ref} holds an error value ({mark.text or 'error'}); enter the real "
                "value",
                value=mark.text or mark.ref,
                row=mark.row, key=key,
            ))

    def close(self) -> list[Finding]:
        for (kind, key), count in self._seen.items():
            if count <= _MARKS_PER_COLUMN:
                continue
            first = self._first[(kind, key)]
            what_zh, what_en = ("公式", "formula") if kind == "formula" else ("错误值", "error")
            check_id = "formula_cell" if kind == "formula" else "error_cell"
            self.findings.append(Finding(
                check_id, "critical",
                f"「{label(key)}」列共有 {count} 个{what_zh}单元格（从 {first.ref} 起），"
                f"以上只列出前 {_MARKS_PER_COLUMN} 个",
                f"column {label(key)} has {count} {what_en} cells (from {first.ref}); only the "
                f"first {_MARKS_PER_COLUMN} are listed",
                column=key, row_number=first.row, value=first.ref,
                failing_count=count - _MARKS_PER_COLUMN,
            ))
        return self.findings


def build_table(
    rows: Iterable[tuple[int, Sequence[object]]],
    *,
    county_code: str,
    source: Source,
    limits: ReadLimits,
    marks: dict[tuple[int, int], CellMark] | None = None,
) -> Table:
    """Apply the sheet rules to (row number, cells) in sheet order."""
    findings: list[Finding] = []
    iterator = iter(rows)
    header_row: int | None = None
    layout = _Layout()
    hint: tuple[str, str] | None = None
    for row_number, cells in iterator:
        if row_number <= HEADER_SEARCH_ROWS:
            if any(normalize_header(_text(c)) == HEADER_ANCHOR for c in cells):
                header_row = row_number
                layout = _layout(row_number, cells, findings)
                break
        elif row_number > _HINT_SEARCH_ROWS:
            break
        hint = hint or _header_hint(row_number, cells)
    if header_row is None:
        return Table(empty_rows(), [_no_header(hint)], None)

    marks = marks or {}
    reporter = _MarkReporter()
    records: list[dict[str, object]] = []
    known_cols = set(layout.keys.values())
    for row_number, cells in iterator:
        if all(is_blank(c) for c in cells):
            continue
        if _is_end_marker(cells, layout, source=source, county_code=county_code):
            break
        if len(records) >= limits.max_rows:
            findings.append(finding(
                "too_many_rows",
                f"数据超过 {limits.max_rows} 行的上限，已停止读取：请检查是否有多余的行",
                f"more than {limits.max_rows} data rows; reading stopped: look for extra rows",
                row=row_number,
            ))
            break
        record: dict[str, object] = {"row_number": row_number}
        for key in KEYS:
            col = layout.keys.get(key)
            raw = cells[col] if col is not None and col < len(cells) else None
            record[key] = (
                normalize_value(key, raw, source=source, county_code=county_code)
                if col is not None
                else None
            )
            # Formulas in unknown columns are not flagged: those values are never used.
            mark = marks.get((row_number, col)) if col is not None else None
            if mark is not None:
                reporter.add(mark, key)
        extra: dict[str, str] = {}
        for col in range(len(cells)):
            if col in known_cols:
                continue
            value = normalize_extra(cells[col])
            if value is None:
                continue
            if col in layout.blank_header:
                layout.unknown[col] = f"(无表头){column_letter(col)}列"
                layout.blank_header.discard(col)
            if col in layout.unknown:
                extra[layout.unknown[col]] = value
        record["extra"] = json.dumps(extra, ensure_ascii=False) if extra else None
        records.append(record)

    findings.extend(reporter.close())
    for col, name in sorted(layout.unknown.items()):
        findings.append(finding(
            "unknown_column",
            f"未知列「{name}」（{column_letter(col)}列）不在报送表中：已保留在原始数据里，不参与统计",
            f"unknown column '{name}' (column {column_letter(col)}) is not on the form: kept in "
            "the raw data, otherwise ignored",
            severity="warning", value=name,
            row=header_row,
        ))
    if not records:
        findings.append(finding(
            "no_data_rows",
            f"表头（第{header_row}行）下面没有学校数据行",
            f"there are no school rows below the header (row {header_row})",
        ))
        return Table(empty_rows(), findings, header_row)
    # dtype=object: pandas 3 would otherwise infer its string dtype and turn every None into
    # NaN, which is not the contract's None.
    frame = pd.DataFrame({name: [r[name] for r in records] for name in ROW_COLUMNS},
                         dtype=object)
    frame["row_number"] = frame["row_number"].astype("int64")
    return Table(frame, findings, header_row)
