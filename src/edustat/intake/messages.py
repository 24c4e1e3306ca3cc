"""Bilingual findings of the reader: one place for the wording of file, row and cell problems."""

from __future__ import annotations

from edustat.columns import label
from edustat.findings import Finding, Severity


def file_finding(
    check_id: str,
    zh: str,
    en: str,
    *,
    severity: Severity = "critical",
    value: str | None = None,
) -> Finding:
    """A problem with the file as a whole (cannot be opened, no header, ...)."""
    return Finding(check_id, severity, zh, en, value=value)


def row_finding(
    check_id: str,
    row: int,
    zh: str,
    en: str,
    *,
    severity: Severity = "critical",
    value: str | None = None,
) -> Finding:
    """A problem located on one sheet row but not in one known column."""
    return Finding(
        check_id, severity, f"第{row}行：{zh}", f"row {row}: {en}", row_number=row, value=value
    )


def cell_finding(
    check_id: str,
    row: int,
    key: str,
    zh: str,
    en: str,
    *,
    severity: Severity = "critical",
    value: str | None = None,
    school_code: str | None = None,
) -> Finding:
    """A problem in one cell: the message names the row and the column as the county sees them."""
    return Finding(
        check_id,
        severity,
        f"第{row}行「{label(key)}」：{zh}",
        f"row {row}, column {label(key)}: {en}",
        column=key,
        row_number=row,
        value=value,
        school_code=school_code,
    )


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
