"""The message every alert is: a title, a bilingual body, a compact body and JSON fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# Apprise's notify types, as plain strings so building a digest never imports Apprise.
NotifyLevel = Literal["info", "success", "warning", "failure"]


@dataclass(frozen=True)
class Digest:
    title: str
    # Chinese first, English below; plain text that reads the same in email, DingTalk, WeCom.
    body: str
    # Chinese only, the worst items first, for receivers with small size limits (WeCom: 2 KB).
    short_body: str
    severity: NotifyLevel
    # Machine-readable copy for the JSON webhook (added to the payload as "edustat").
    fields: dict[str, Any] = field(default_factory=dict)
    # Files for receivers that take attachments by mail (a county's rejection report).
    attachments: tuple[Path, ...] = ()
