"""Bilingual findings of the reader: one place for the wording of file, row and cell problems."""

from __future__ import annotations

from edustat.columns import label
from edustat.findings import Finding, Severity


def finding(
    check_id: str,
    zh: str,
    en: str,
    *,
    row: int | None = None,
    key: str | None = None,
    severity: Severity = "critical",
    value: str | None = None,
    school_code: str | None = None,
) -> Finding:
    """A reader's finding, placed as the county sees it: the whole file (no row), one sheet row
    (row), or one cell (row and column key), named in front of the message."""
    if row is None:
        where_zh = where_en = ""
    elif key is None:
        where_zh, where_en = f"第{row}行：", f"row {row}: "
    else:
        where_zh, where_en = f"第{row}行「{label(key)}」：", f"row {row}, column {label(key)}: "
    return Finding(check_id, severity, where_zh + zh, where_en + en, column=key,
                   row_number=row, value=value, school_code=school_code)


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA), as the county sees them."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0)."""
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
