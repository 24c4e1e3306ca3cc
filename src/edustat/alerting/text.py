"""Text helpers shared by the alerts: clipping values to one line, cutting to a size."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clip(text: object, limit: int = 60) -> str:
    """One line of at most `limit` characters: values come from county files, so a cell with
    line breaks or a 10 000-character paste must not take over the message."""
    flat = _CONTROL.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def first_lines(text: str, lines: int, width: int = 300) -> str:
    kept = [line[:width] for line in str(text).strip().splitlines()[:lines]]
    return "\n".join(kept)


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
