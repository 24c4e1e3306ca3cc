"""Who is told what: the contacts file named by EDUSTAT_CONTACTS.

A CSV file (UTF-8, with or without BOM) whose header has `region_code,url`, one destination
per row, several rows per region allowed; other columns (a `note`, say) are ignored, and lines
starting with `#` are comments (docs/examples/contacts.example.csv):

    region_code,url
    630103,mailto://smtp.example.org:25?from=edustat@example.org&to=tongji@chengzhong.example.org
    630100,dingtalk://SECRET@TOKEN/
    630000,wecombot://KEY
    national,json://ops.example.org/edustat

`region_code` is a county-level code (the county's own notices and reminders), a prefecture
code `xxxx00` or a province code `xx0000` (a digest limited to that region), or `national`
(the full digest, as EDUSTAT_ALERT_URLS). A bad row (unknown code, a URL Apprise cannot use)
is left out and reported, by the night's digest and by `edustat status`; it never stops
anything. Problems never quote a URL beyond its scheme: URLs carry tokens and passwords.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from edustat.alerting.delivery import scheme_only
from edustat.config import Settings
from edustat.divisions import division
from edustat.notices.wording import LANGS, Bi, phrase

Level = Literal["county", "prefecture", "province", "national"]


@dataclass(frozen=True)
class Contact:
    line: int
    region_code: str  # 6-digit division code or "national"
    level: Level
    url: str


@dataclass
class Contacts:
    rows: list[Contact] = field(default_factory=list)
    problems: list[Bi] = field(default_factory=list)
    # Rows with a known region but a URL Apprise cannot use (url: only its scheme): the night
    # records them as undeliverable when their region had something to be told.
    invalid: list[Contact] = field(default_factory=list)

    def invalid_for(self, region_code: str) -> list[str]:
        return [c.url for c in self.invalid if c.region_code == region_code]

    def urls(self, region_code: str) -> list[str]:
        return [c.url for c in self.rows if c.region_code == region_code]

    def regions(self, *levels: Level) -> list[str]:
        """Region codes with a row at these levels (usable or not), in file order."""
        return list(dict.fromkeys(c.region_code for c in sorted(self.rows + self.invalid,
                                                                key=lambda c: c.line)
                                  if c.level in levels))


def _row_problem(key: str, path: Path, line: int, **values: object) -> Bi:
    where = Bi.of("contacts_where", path=path, line=line)
    return Bi(*(phrase(key, lang, where=where[lang], **values) for lang in LANGS))


def level_of(code: str) -> Level | None:
    if code.lower() == "national":
        return "national"
    found = division(code) if len(code) == 6 and code.isdigit() else None
    if found is None:
        return None
    if found.is_county_unit:
        return "county"
    if found.level in ("prefecture", "province"):
        return found.level  # type: ignore[return-value]
    return None


def _usable(url: str) -> bool:
    import apprise

    try:
        return apprise.Apprise.instantiate(url) is not None
    except Exception:
        return False


def _lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def parse_contacts(text: str, path: Path) -> Contacts:
    contacts = Contacts()
    lines = list(_lines(text))
    if not lines:
        contacts.problems.append(Bi.of("contacts_no_header", path=path))
        return contacts
    header = [h.strip().lower() for h in next(csv.reader([lines[0][1]]))]
    if "region_code" not in header or "url" not in header:
        contacts.problems.append(Bi.of("contacts_no_header", path=path))
        return contacts
    code_at, url_at = header.index("region_code"), header.index("url")
    seen: set[tuple[str, str]] = set()
    for number, line in lines[1:]:
        cells = next(csv.reader(io.StringIO(line)), [])
        code = cells[code_at].strip() if len(cells) > code_at else ""
        url = cells[url_at].strip() if len(cells) > url_at else ""
        level = level_of(code)
        if level is None:
            contacts.problems.append(
                _row_problem("contacts_unknown_code", path, number, code=code[:20]))
            continue
        if level == "national":
            code = "national"
        if not url or not _usable(url):
            scheme = url.split(":", 1)[0][:20] if ":" in url else "?"
            contacts.problems.append(
                _row_problem("contacts_bad_url", path, number, scheme=scheme))
            contacts.invalid.append(Contact(number, code, level, scheme_only(url)))
            continue
        if (code, url) in seen:
            contacts.problems.append(_row_problem("contacts_duplicate", path, number))
            continue
        seen.add((code, url))
        contacts.rows.append(Contact(number, code, level, url))
    return contacts


def load_contacts(settings: Settings) -> Contacts:
    """The contacts of EDUSTAT_CONTACTS (none when unset); never raises."""
    path = settings.contacts
    if path is None:
        return Contacts()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        error = getattr(exc, "strerror", None) or type(exc).__name__
        return Contacts(problems=[Bi.of("contacts_unreadable", path=path, error=error)])
    return parse_contacts(text, path)
