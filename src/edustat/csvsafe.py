"""CSV files a person may open in a spreadsheet: no cell can become a formula.

Excel, WPS and LibreOffice evaluate a CSV cell that begins with `=`, `+`, `-` or `@` (and, in
some versions, after a leading tab or carriage return) as a formula: a county value such as
`=HYPERLINK(...)` or `=cmd|'/Ccalc'!A0` would run when the officer opens the file (CSV/DDE
injection). Such a cell is written with a leading apostrophe, the spreadsheet convention for
"this is text" (OWASP's recommendation): it shows the value as entered and evaluates nothing.
Every CSV edustat writes goes through `writer()`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell text, with a leading apostrophe when a spreadsheet would read a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SafeWriter:
    """csv.writer whose every cell is neutralised."""

    def __init__(self, fh: IO[str], **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: IO[str], **kwargs: Any) -> SafeWriter:
    return SafeWriter(fh, **kwargs)
