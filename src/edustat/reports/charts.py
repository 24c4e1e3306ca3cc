"""Inline SVG charts drawn in Python: the pages must work offline, with no JS or fonts fetched.

Every mark carries its exact value in data-value (see formatting.exact) so a test can check the
chart against the marts, and a <title> so a reader hovering a bar sees the figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from edustat.reports.formatting import exact, fmt


@dataclass(frozen=True)
class Bar:
    code: str
    name: str
    value: Decimal | int | float | None
    href: str | None = None


def _f(value: Any) -> float:
    return float(Decimal(str(value)))


def _attr(value: Any) -> str:
    return str(escape(exact(value)))


def hbar_chart(chart_id: str, title: str, bars: list[Bar], kind: str = "pct",
               target: Decimal | None = None, target_label: str = "") -> Markup:
    """Horizontal bars sorted best first, counties without a value last, a dashed target."""
    ordered = sorted((b for b in bars if b.value is not None), key=lambda b: (-_f(b.value), b.code))
    ordered += sorted((b for b in bars if b.value is None), key=lambda b: b.code)
    label_w, bar_w, value_w, row_h, top, bottom = 170, 560, 80, 22, 34, 28
    width = label_w + bar_w + value_w
    height = top + row_h * max(len(ordered), 1) + bottom
    values = [_f(b.value) for b in ordered if b.value is not None]
    # Shares are drawn on 0..100 %; a ratio above 1 (more multimedia rooms than classrooms)
    # stretches the axis rather than overflowing it.
    scale = max([1.0, *values]) if kind == "pct" else max([*values, _f(target or 0), 1e-9])

    def x(v: float) -> float:
        return label_w + v / scale * bar_w

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart hbar" id="{escape(chart_id)}" '
        f'data-chart="{escape(chart_id)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = [scale * i / 4 for i in range(5)]
    for t in ticks:
        tx = x(t)
        out.append(f'<line class="grid" x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" '
                   f'y2="{height - bottom}" />')
        out.append(f'<text class="tick" x="{tx:.1f}" y="{height - bottom + 16}" '
                   f'text-anchor="middle">{escape(fmt(Decimal(str(t)), kind))}</text>')
    for i, bar in enumerate(ordered):
        y = top + i * row_h
        meets = target is not None and bar.value is not None and _f(bar.value) >= _f(target)
        cls = "bar meets" if meets else ("bar nodata" if bar.value is None else "bar below")
        out.append(f'<g class="{cls}" data-county="{_attr(bar.code)}" '
                   f'data-value="{_attr(bar.value)}">')
        out.append(f"<title>{escape(bar.name)}（{escape(bar.code)}）："
                   f"{escape(fmt(bar.value, kind) if bar.value is not None else '无数据')}</title>")
        name = f"{escape(bar.name)}"
        label = (f'<a href="{escape(bar.href)}">{name}</a>' if bar.href else name)
        out.append(f'<text class="label" x="{label_w - 8}" y="{y + row_h * 0.68:.1f}" '
                   f'text-anchor="end">{label}</text>')
        if bar.value is not None:
            w = max(x(_f(bar.value)) - label_w, 0.0)
            out.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" '
                       f'height="{row_h - 6}" rx="2" />')
            out.append(f'<text class="value" x="{label_w + w + 4:.1f}" '
                       f'y="{y + row_h * 0.68:.1f}">{escape(fmt(bar.value, kind))}</text>')
        else:
            out.append(f'<text class="value nodata" x="{label_w + 4}" '
                       f'y="{y + row_h * 0.68:.1f}">无数据</text>')
        out.append("</g>")
    if target is not None:
        tx = x(_f(target))
        out.append(f'<g class="target" data-value="{_attr(target)}">')
        out.append(f'<line x1="{tx:.1f}" y1="{top - 10}" x2="{tx:.1f}" '
                   f'y2="{height - bottom}" />')
        out.append(f'<text x="{tx:.1f}" y="{top - 14}" text-anchor="middle">'
                   f"{escape(target_label or '目标 ' + fmt(target, kind))}</text>")
        out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))


def line_chart(chart_id: str, title: str, points: list[tuple[int, Any]], kind: str,
               target: Decimal | None = None, notes: Mapping[int, str] | None = None) -> Markup:
    """A small trend line over school years; a missing year breaks the line. `notes`: text
    shown with a year's point (how many counties stand behind it)."""
    width, height, left, right, top, bottom = 280, 130, 52, 14, 14, 26
    present = [(y, _f(v)) for y, v in points if v is not None]
    values = [v for _, v in present]
    if target is not None and values:
        values.append(_f(target))
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    else:
        pad = (hi - lo) * 0.1
        lo, hi = lo - pad, hi + pad
    if kind in ("pct", "count") and lo < 0 <= min(v for v in values or [0]):
        lo = 0.0
    years = [y for y, _ in points]
    n = len(years)

    def px(i: int) -> float:
        span = width - left - right
        return left + (i * span / (n - 1) if n > 1 else span / 2)

    def py(v: float) -> float:
        return top + (hi - v) / (hi - lo) * (height - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trend" id="{escape(chart_id)}" '
        f'data-chart="{escape(chart_id)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - right}" '
        f'y2="{height - bottom}" />',
        f'<text class="tick" x="{left - 4}" y="{py(hi) + 4:.1f}" text-anchor="end">'
        f"{escape(fmt(Decimal(str(hi)), kind))}</text>",
        f'<text class="tick" x="{left - 4}" y="{py(lo) + 4:.1f}" text-anchor="end">'
        f"{escape(fmt(Decimal(str(lo)), kind))}</text>",
    ]
    if target is not None:
        ty = py(_f(target))
        out.append(f'<line class="target" x1="{left}" y1="{ty:.1f}" x2="{width - right}" '
                   f'y2="{ty:.1f}" />')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_, v) in enumerate(points):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{px(i):.1f},{py(_f(v)):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        out.append(f'<polyline class="line" points="{" ".join(seg)}" />')
    for i, (year, v) in enumerate(points):
        out.append(f'<text class="tick" x="{px(i):.1f}" y="{height - 8}" '
                   f'text-anchor="middle">{year}</text>')
        if v is None:
            continue
        out.append(f'<circle class="point" cx="{px(i):.1f}" cy="{py(_f(v)):.1f}" r="3.5" '
                   f'data-year="{year}" data-value="{_attr(v)}">'
                   f"<title>{year}：{escape(fmt(v, kind))}"
                   f"{escape('（' + notes[year] + '）') if notes and year in notes else ''}"
                   "</title></circle>")
    out.append("</svg>")
    return Markup("\n".join(out))
