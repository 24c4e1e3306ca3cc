"""Stream a worksheet's XML once, before calamine reads it: where content ends, formulas, errors.

calamine materialises the sheet's used range as one dense grid, so a single value at row
1,000,000 (or an empty string in every cell of a million rows) would cost gigabytes. This
scanner walks the inflated XML in chunks with byte regexes (C speed, no element objects) and
stops as soon as content reaches past the row/column limits. Rows that hold no values, such
as the million formatted blank rows a county gets by selecting whole rows, cost no memory here
and none in calamine, which only keeps cells that carry a value.

Two passes exist because cell positions normally come from the `r="B12"` attribute. A few
generators omit it; then the fast pass gives up and the precise pass counts `<row>` and `<c>`
elements to know where each cell is.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal

from edustat.findings import Finding
from edustat.intake.limits import ReadLimits
from edustat.intake.messages import column_index, column_letter

MAX_MARKS = 10_000  # formula/error cells remembered; more are counted, not kept
_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*:)?(?:worksheet|chartsheet|dialogsheet)[\s>/]")
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_REF = re.compile(rb'\sr="([0-9]{1,7})"')
_CELL_TYPE = re.compile(rb'\st="([A-Za-z]+)"')


@dataclass(frozen=True)
class CellMark:
    """A cell whose stored value cannot be trusted as data: a formula or an error value."""

    row: int  # 1-based
    col: int  # 0-based
    kind: Literal["formula", "error"]
    text: str | None  # the formula (without `=`) or the error code, when it was visible

    @property
    def ref(self) -> str:
        return f"{column_letter(self.col)}{self.row}"


@dataclass
class SheetScan:
    max_row: int = 0  # last 1-based row holding a cell with content; 0 when none
    max_col: int = -1  # rightmost 0-based column holding content
    value_cells: int = 0
    marks: list[CellMark] = field(default_factory=list)
    marks_dropped: int = 0


class SheetTooLarge(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message_en)
        self.finding = finding


class NeedsPositions(Exception):
    """A cell without an `r` attribute: only the precise pass can place it."""


class SheetScanner:
    """Feed inflated chunks of one worksheet part, then close(); read `.scan`."""

    def __init__(self, limits: ReadLimits, *, precise: bool = False) -> None:
        self.limits = limits
        self.precise = precise
        self.scan = SheetScan()
        self._buf = b""
        self._state: Literal["prefix", "before", "inside", "after"] = "prefix"
        self._last_cell: tuple[int, int] | None = None
        self._row = 0  # precise pass: current row number
        self._col = -1  # precise pass: column of the previous cell in the row

    def _compile(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        self._sd_open = re.compile(rb"<" + p + rb"sheetData(?:\s[^>]*)?>")
        self._sd_close = b"</" + prefix + b"sheetData>"
        # Possessive `*+`: a self-closing `<c .../>` (no value) fails at once, no backtracking.
        self._cell_fast = re.compile(rb"<" + p + rb"c(\s[^>/]*+)?>")
        # The positions of the same cells, all at once (see _cells_in_bulk).
        self._cell_refs = re.compile(
            rb"<" + p + rb'c\s(?:[^>/]*?\s)?r="([A-Z]{1,3})([0-9]{1,7})"[^>/]*+>')
        self._tag_precise = re.compile(rb"<" + p + rb"(row|c)(?=[\s/>])([^>]*)>")
        self._formula = re.compile(rb"<" + p + rb"f(?=[\s/>])")
        self._value_text = re.compile(rb"<" + p + rb"v>([^<]*)<")

    def feed(self, chunk: bytes) -> None:
        self._buf += chunk
        if self._state == "prefix":
            root = _ROOT.search(self._buf)
            if root is None:
                if len(self._buf) < 1 << 20:
                    return
                self._compile(b"")
            else:
                self._compile(root.group(1) or b"")
            self._state = "before"
        cut = self._buf.rfind(b"<")
        self._process(cut if cut > 0 else 0)

    def close(self) -> SheetScan:
        if self._state == "prefix":
            self._compile(b"")
            self._state = "before"
        self._process(len(self._buf))
        return self.scan

    def _process(self, cut: int) -> None:
        """Handle complete tags in buf[:cut]; keep the (possibly partial) rest for later."""
        buf = self._buf
        lo = 0
        if self._state == "before":
            opened = self._sd_open.search(buf, 0, cut)
            if opened is None:
                self._buf = buf[cut:]
                return
            self._state = "after" if opened.group(0).endswith(b"/>") else "inside"
            lo = opened.end()
        if self._state == "inside":
            close = buf.find(self._sd_close, lo, cut)
            hi = cut if close < 0 else close
            self._cells(buf, lo, hi)
            if close >= 0:
                self._state = "after"
        self._buf = buf[cut:]

    def _cells_in_bulk(self, buf: bytes, lo: int, hi: int) -> bool:
        """The common chunk, handled by C-level regex calls instead of a loop per cell.

        Only when it has no formula and no error cell, every value cell has its position and
        all of them are within the limits: then only the counts and the extent are needed.
        Otherwise (False) the loop in _cells decides, with the exact cell for each finding.
        """
        if self._formula.search(buf, lo, hi) or buf.find(b't="e"', lo, hi) >= 0:
            return False
        refs = self._cell_refs.findall(buf, lo, hi)
        if len(refs) != sum(1 for _ in self._cell_fast.finditer(buf, lo, hi)):
            return False  # a cell without r="…": the loop raises NeedsPositions
        if not refs:
            return True
        max_row = max(int(row) for _, row in refs)
        max_col = max(column_index(letters.decode()) for letters in {c for c, _ in refs})
        if max_row > self.limits.max_rows or max_col >= self.limits.max_columns:
            return False
        scan = self.scan
        scan.value_cells += len(refs)
        scan.max_row = max(scan.max_row, max_row)
        scan.max_col = max(scan.max_col, max_col)
        letters, row = refs[-1]
        self._last_cell = (int(row), column_index(letters.decode()))
        return True

    def _cells(self, buf: bytes, lo: int, hi: int) -> None:
        if not self.precise and self._cells_in_bulk(buf, lo, hi):
            return
        positions: list[int] = []
        places: list[tuple[int, int]] = []
        if self.precise:
            for m in self._tag_precise.finditer(buf, lo, hi):
                attrs = m.group(2)
                if m.group(1) == b"row":
                    ref = _ROW_REF.search(attrs)
                    self._row = int(ref.group(1)) if ref else self._row + 1
                    self._col = -1
                    continue
                ref = _CELL_REF.search(attrs)
                if ref:
                    row, col = int(ref.group(2)), column_index(ref.group(1).decode())
                else:
                    row, col = self._row, self._col + 1
                self._col = col
                if not attrs.endswith(b"/"):
                    self._value_cell(buf, m.end(), attrs, row, col)
                    positions.append(m.start())
                    places.append((row, col))
        else:
            for m in self._cell_fast.finditer(buf, lo, hi):
                attrs = m.group(1) or b""
                ref = _CELL_REF.search(attrs)
                if ref is None:
                    raise NeedsPositions
                row, col = int(ref.group(2)), column_index(ref.group(1).decode())
                self._value_cell(buf, m.end(), attrs, row, col)
                positions.append(m.start())
                places.append((row, col))
        for m in self._formula.finditer(buf, lo, hi):
            i = bisect_right(positions, m.start()) - 1
            cell = places[i] if i >= 0 else self._last_cell
            if cell is not None:
                self._mark(CellMark(cell[0], cell[1], "formula", _formula_text(buf, m.start())))
        if places:
            self._last_cell = places[-1]

    def _value_cell(self, buf: bytes, end: int, attrs: bytes, row: int, col: int) -> None:
        scan = self.scan
        scan.value_cells += 1
        if row > self.limits.max_rows:
            raise SheetTooLarge(_too_far("too_many_rows", row, col, self.limits))
        if col >= self.limits.max_columns:
            raise SheetTooLarge(_too_far("too_many_columns", row, col, self.limits))
        scan.max_row = max(scan.max_row, row)
        scan.max_col = max(scan.max_col, col)
        kind = _CELL_TYPE.search(attrs)
        if kind and kind.group(1) == b"e":
            shown = self._value_text.match(buf, end, end + 200)
            text = html.unescape(shown.group(1).decode("utf-8", "replace")) if shown else None
            self._mark(CellMark(row, col, "error", text))

    def _mark(self, mark: CellMark) -> None:
        if len(self.scan.marks) < MAX_MARKS:
            self.scan.marks.append(mark)
        else:
            self.scan.marks_dropped += 1


def _formula_text(buf: bytes, start: int) -> str | None:
    """The text of `<f ...>SUM(A1:A3)</f>`; None for shared-formula children `<f .../>`."""
    gt = buf.find(b">", start)
    if gt < 0 or buf[gt - 1:gt] == b"/":
        return None
    lt = buf.find(b"<", gt + 1)
    if lt < 0:
        return None
    text = html.unescape(buf[gt + 1:lt].decode("utf-8", "replace")).strip()
    return text or None


def _too_far(check_id: str, row: int, col: int, limits: ReadLimits) -> Finding:
    ref = f"{column_letter(col)}{row}"
    if check_id == "too_many_rows":
        zh_limit, en_limit = f"{limits.max_rows} 行", f"{limits.max_rows}-row"
    else:
        zh_limit = f"{limits.max_columns} 列（{column_letter(limits.max_columns - 1)}列）"
        en_limit = f"{limits.max_columns}-column (column {column_letter(limits.max_columns - 1)})"
    return Finding(
        check_id,
        "critical",
        f"工作表在单元格 {ref} 仍有内容，超出 {zh_limit}的上限：请删除数据区域以外多余的行和列"
        "（包括只含空格或空字符串的单元格）后再报送",
        f"the sheet has content as far as cell {ref}, beyond the {en_limit} limit: delete the "
        "extra rows and columns outside the data (including cells holding only spaces or "
        "empty strings) and resubmit",
        row_number=row,
        value=ref,
    )
