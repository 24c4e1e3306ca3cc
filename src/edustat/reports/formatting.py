"""Numbers for humans, exact values for machines.

Every figure is shown rounded (percent with one decimal) and carries its exact mart value in
`data-value`, so tests and scrapers read back the number the warehouse holds, not the rounding.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from edustat.reports import labels

Number = Decimal | int | float

DASH = "—"


def exact(value: Any) -> str:
    """The value as data-value carries it: str(Decimal) keeps every digit of a numeric."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def pct(value: Number | None, digits: int = 1) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)) * 100:.{digits}f}%"


def num(value: Number | None, digits: int = 2) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)):,.{digits}f}"


def count(value: Number | None) -> str:
    if value is None:
        return DASH
    return f"{Decimal(str(value)):,.0f}"


def cv(value: Number | None) -> str:
    return num(value, 3)


def fmt(value: Any, kind: str) -> str:
    """Human text for a value of a display format (interface.FORMATS)."""
    if value is None:
        return DASH
    if kind == "pct":
        return pct(value)
    if kind == "count":
        return count(value)
    if kind == "cv":
        return cv(value)
    if kind in ("ratio", "decimal"):
        return num(value, 2)
    if kind == "bool":
        return yes_no(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def delta(value: Number | None, kind: str) -> str:
    """Year-over-year change: percentage points for shares, plain difference otherwise."""
    if value is None:
        return ""
    d = Decimal(str(value))
    sign = "+" if d > 0 else ("±" if d == 0 else "−")
    mag = abs(d)
    if kind == "pct":
        return f"{sign}{mag * 100:.1f} 个百分点"
    if kind == "count":
        return f"{sign}{mag:,.0f}"
    return f"{sign}{mag:,.2f}"


def yes_no(value: bool | None) -> str:
    return labels.yes_no(value)


def section_label(section: str) -> str:
    return labels.label("section", section)


def status_label(status: str) -> str:
    return labels.status_label(status)


def figure(value: Any, kind: str, tag: str = "span", text: str | None = None,
           **attrs: Any) -> Markup:
    """`<span class="figure" data-value="exact" ...>human</span>` (attributes escaped).

    `text` replaces the human rendering (e.g. a signed change) while data-value stays exact.
    """
    classes = " ".join(c for c in ("figure", attrs.pop("cls", None)) if c)
    parts = [f'class="{escape(classes)}"']
    parts.append(f'data-value="{escape(exact(value))}"')
    if value is None:
        parts.append('data-null="true"')
    for key, val in attrs.items():
        if val is None:
            continue
        parts.append(f'{key.replace("_", "-")}="{escape(exact(val))}"')
    shown = fmt(value, kind) if text is None else text
    return Markup(f"<{tag} {' '.join(parts)}>{escape(shown)}</{tag}>")


def as_list(value: Any) -> list[str]:
    """`gaps` may be a text[] or one text with items separated by ；/; or new lines."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and str(v).strip()]
    text = str(value)
    for sep in ("\n", "；", ";"):
        text = text.replace(sep, "\u0000")
    return [p.strip() for p in text.split("\u0000") if p.strip()]
