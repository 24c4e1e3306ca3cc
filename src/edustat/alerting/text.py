"""Wording shared by the alerts: county labels, quoted values, clipping, report links."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from edustat.divisions import county_name

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def county_zh(code: str) -> str:
    """`城中区（630103）`; an unknown folder code still shows, flagged."""
    return f"{county_name(code) or '未知区划'}（{code}）"


def county_en(code: str) -> str:
    """Names stay in Chinese (that is what the county is called); the code disambiguates."""
    return f"{county_name(code) or 'unknown division'} ({code})"


def clip(text: object, limit: int = 60) -> str:
    """One line of at most `limit` characters: values come from county files, so a cell with
    line breaks or a 10 000-character paste must not take over the message."""
    flat = _CONTROL.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def first_lines(text: str, lines: int, width: int = 300) -> str:
    kept = [line[:width] for line in str(text).strip().splitlines()[:lines]]
    return "\n".join(kept)


def report_link(report_path: str | None, reports_dir: Path, report_url: str | None) -> str | None:
    """Where a reader can open a submission's report.

    report_url is the address of the run's report page, published from the reports
    directory; a report_path inside that directory (absolute, or relative to it) is linked
    relative to that page, the way a browser resolves a relative link on it. Anything else is
    shown as stored.
    """
    if not report_path:
        return None
    if report_path.startswith(("http://", "https://")) or not report_url:
        return report_path
    path = Path(report_path)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(reports_dir.resolve())
        except ValueError:
            return report_path
    relative = path
    return urljoin(report_url, relative.as_posix())


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, max_bytes: int, suffix: str) -> str:
    """Whole lines of `text` that fit in `max_bytes` together with `suffix`."""
    if utf8_len(text) <= max_bytes:
        return text
    budget = max_bytes - utf8_len(suffix) - 1
    kept: list[str] = []
    used = 0
    for line in text.splitlines():
        cost = utf8_len(line) + 1
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    if not kept:  # a single huge line: cut inside it, on a character boundary
        cut = text.encode("utf-8")[: max(budget, 0)].decode("utf-8", errors="ignore")
        kept = [cut]
    return "\n".join([*kept, suffix])
