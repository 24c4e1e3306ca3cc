"""Cell values -> the canonical text kept in raw.school_rows (validity is judged later).

The reader only undoes what spreadsheets and keyboards do to a value (full-width input,
padding, thousands separators, Excel's number storage); it never guesses at meaning, so
`约300` or `1,23` stay as they are and validation names them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from typing import Literal

from edustat.columns import BY_KEY

Source = Literal["xlsx", "csv"]

# Characters that pad values: every Unicode space (incl. \u3000, NBSP) plus the BOM and
# zero-width characters that survive copy-paste from web forms and Word.
_PAD = "\u200b\u200c\u200d\u2060\ufeff"
_ALL_SPACE = re.compile(rf"[\s{_PAD}]+")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_WHOLE_FLOAT = re.compile(r"([+-]?\d+)\.0*")
# ="0630102001" is how exporters force Excel to keep a code as text; 'xxx is Excel's own
# text prefix when a CSV was typed by hand.
_EXCEL_TEXT = re.compile(r'="(.*)"')
_BLANK_CHARS = f" \t\r\n\f\v\u3000\u00a0{_PAD}"
_COUNT_KINDS = frozenset({"int", "num"})


def is_blank(value: object) -> bool:
    """True for cells a person would call empty (None, '', spaces of any width)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not _ALL_SPACE.sub("", value)
    return False


def squeeze(text: str) -> str:
    """Text without any space characters: used to compare markers such as `合 计`."""
    return _ALL_SPACE.sub("", text)


def render_number(value: float | int) -> str:
    """A numeric cell as Excel shows it: 15 significant digits, no exponent, no `.0`."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(format(value, ".15g")), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def render_cell(value: object) -> tuple[str, bool]:
    """(text, came_from_number) for a raw cell from calamine (or a CSV string)."""
    if value is None:
        return "", False
    if isinstance(value, bool):  # before int: bool is an int subclass
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int | float):
        return render_number(value), True
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" "), False
    if isinstance(value, dt.date | dt.time):
        return value.isoformat(), False
    return str(value), False


def restore_school_code(text: str, county_code: str) -> str:
    """Put back the leading zero Excel dropped from a 学校标识码 stored as a number.

    Only a 9-digit code whose first 6 digits are the landing folder's county code is restored:
    that prefix is the proof that the code was `0` + county + serial and lost its zero. Any
    other 9-digit value could be a typo or a truncated code, so it is left for validation to
    reject on its length rather than silently turned into some other school's code.
    """
    if len(text) == 9 and text.isascii() and text.isdigit() and text[:6] == county_code:
        return "0" + text
    return text


def normalize_value(key: str, raw: object, *, source: Source, county_code: str) -> str | None:
    """One cell of a known column -> canonical text, `"0"` or None (see module docstring)."""
    column = BY_KEY[key]
    if column.kind in _COUNT_KINDS:
        # Most cells of a national night (9 in 10) are plain counts: ASCII digits in a CSV, or
        # a whole float from a workbook. They come out of the general path unchanged (or as
        # the int), so they skip it: it is most of the read time.
        kind = type(raw)
        if kind is str and raw.isdigit() and raw.isascii():
            return raw
        if kind is float and raw.is_integer() and abs(raw) < 1e15:
            return str(int(raw))
        if kind is int:
            return str(raw)
    text, from_number = render_cell(raw)
    if column.kind == "text":
        # Names are shown to people: keep their own characters, only drop the padding.
        text = text.strip(_BLANK_CHARS)
    else:
        # NFKC folds full-width digits, letters and punctuation (１２３，．－) to ASCII and
        # \u3000/NBSP to plain spaces, which are then removed with every other space.
        text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
        text = _ALL_SPACE.sub("", text)
        if column.kind != "yesno":
            wrapped = _EXCEL_TEXT.fullmatch(text)
            if wrapped:
                text = wrapped.group(1)
            text = text.removeprefix("'")
        if column.numeric and _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        if column.kind == "int":
            whole = _WHOLE_FLOAT.fullmatch(text)
            if whole:
                text = whole.group(1)
        # A CSV carries no types: when it was saved from Excel the zero was dropped there,
        # so a CSV value is treated like a number cell. A text cell in a workbook was typed
        # as text on purpose and is left alone.
        if key == "school_code" and (from_number or source == "csv"):
            text = restore_school_code(text, county_code)
    if text == "":
        return "0" if column.zero_when_empty else None
    return text


def normalize_extra(raw: object) -> str | None:
    """A cell of an unknown column, kept for the raw table: text without padding."""
    text, _ = render_cell(raw)
    text = text.strip(_BLANK_CHARS)
    return text or None
