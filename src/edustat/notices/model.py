"""The view model every notice is rendered from: facts of the night, shaped for reading.

One model per message (DigestView for the national and regional digests, CountyView for a
county's own notice), built once; the templates render it per language. Values from county
files are clipped to one line here, so no template can forget to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from edustat.alerting.digest import NotifyLevel
from edustat.alerting.text import clip
from edustat.columns import label
from edustat.config import Settings
from edustat.findings import Finding
from edustat.notices.facts import CheckSummary, Decision, Example, FileFacts, RunFacts
from edustat.notices.status import Owed
from edustat.notices.wording import Bi
from edustat.site import public_link


@dataclass(frozen=True)
class Limits:
    """How much of each section one message shows; the reports have everything."""

    submissions: int
    checks: int
    examples: int
    names: int
    messages: bool  # describe checks outside rules.py by their first failing row's message
    accepted_list: bool


FULL = Limits(submissions=20, checks=5, examples=3, names=60, messages=True, accepted_list=True)
SHORT = Limits(submissions=5, checks=2, examples=2, names=12, messages=False, accepted_list=False)


@dataclass(frozen=True)
class CheckView:
    check_id: str
    severity: str
    column: str | None
    subject: str  # the column's bilingual label, else the check id
    describe: Bi | None
    from_rules: bool  # describe is the rule's wording (else a failing row's own message)
    count: int
    examples: tuple[tuple[int | None, str | None], ...]  # (row, clipped value)


@dataclass(frozen=True)
class FileView(FileFacts):
    """A decided file as a notice shows it: names clipped, the report linked."""

    reason: str | None  # the rejection reason, shown when there are no checks to list
    report: str | None  # where the full rejection report can be read
    report_files: tuple[Path, ...]  # the report's files, for mail attachments
    checks: tuple[CheckView, ...]  # those worth showing: errors of a rejected file, warnings


@dataclass(frozen=True)
class OwedGroup:
    school_year: int
    deadline: date
    state: str  # missing | rejected_only
    counties: tuple[str, ...]


@dataclass(frozen=True)
class Undelivered:
    what: Bi
    destination: str
    error: str


@dataclass(frozen=True)
class DigestView:
    run_id: str
    day: str
    scope: Bi | None  # None: the whole night (national digest)
    run_failed: bool
    run_message: str | None
    report_link: str | None
    duplicates: int
    rejected: tuple[FileView, ...]
    held: tuple[FileView, ...]
    warned: tuple[FileView, ...]
    accepted: tuple[FileView, ...]
    late: tuple[OwedGroup, ...]
    due: tuple[OwedGroup, ...]
    notes: tuple[Bi, ...] = ()
    problems: tuple[Bi, ...] = ()
    undelivered: tuple[Undelivered, ...] = ()

    @property
    def late_count(self) -> int:
        return sum(len(g.counties) for g in self.late)

    @property
    def severity(self) -> NotifyLevel:
        if self.rejected or self.run_failed:
            return "failure"
        if (self.warned or self.held or self.late or self.notes or self.problems
                or self.undelivered):
            return "warning"
        return "success" if self.accepted else "info"

    @property
    def something_wrong(self) -> bool:
        return self.severity in ("failure", "warning")


@dataclass(frozen=True)
class CountyView:
    county_code: str
    run_id: str
    day: str
    files: tuple[FileView, ...]
    due: tuple[Owed, ...]
    late: tuple[Owed, ...]

    @property
    def severity(self) -> NotifyLevel:
        if any(f.status == "rejected" for f in self.files) or self.late:
            return "failure"
        if self.due or any(f.status == "held" or f.checks for f in self.files):
            return "warning"
        return "success"


# ---- building ----------------------------------------------------------------------------


@cache
def _rule_texts() -> dict[str, tuple[str, str]]:
    """check_id -> the rule's own wording, for ids that have one wording only."""
    from edustat.rules import RULES

    texts: dict[str, set[tuple[str, str]]] = {}
    for rule in RULES:
        texts.setdefault(rule.rule_id, set()).add((rule.zh, rule.en))
    return {rule_id: next(iter(t)) for rule_id, t in texts.items() if len(t) == 1}


def _check_view(c: CheckSummary) -> CheckView:
    known = _rule_texts().get(c.check_id)
    describe = (Bi(*known) if known
                else Bi(clip(c.message_zh, 160), clip(c.message_en, 160)))
    return CheckView(
        check_id=c.check_id, severity=c.severity, column=c.column,
        subject=label(c.column) if c.column else c.check_id,
        describe=describe, from_rules=known is not None, count=c.count,
        examples=tuple((e.row_number, clip(e.value, 40) if e.value is not None else None)
                       for e in c.examples if e.value is not None or e.row_number is not None),
    )


def link(settings: Settings, path: str | Path | None) -> str | None:
    """A link a reader can follow (EDUSTAT_PUBLIC_URL), else the server path in words."""
    if not path:
        return None
    if str(path).startswith(("http://", "https://")):
        return str(path)
    try:
        return public_link(settings, Path(path))
    except ValueError:  # outside EDUSTAT_HOME: not part of the served site
        return public_link(replace(settings, public_url=None), Path(path))


def _report_files(report_path: str | None) -> tuple[Path, ...]:
    if not report_path:
        return ()
    from edustat.intake.rejection_report import CSV_NAME

    page = Path(report_path)  # rejections/<id>/index.html, the CSV beside it (edustat.site)
    return tuple(p for p in (page, page.parent / CSV_NAME) if p.is_file())


def file_view(d: Decision, settings: Settings) -> FileView:
    # A rejected file is about its errors; an accepted one can only have warnings to show.
    relevant = [c for c in d.checks if d.status == "rejected" or c.severity == "warning"]
    return FileView(
        submission_id=d.submission_id, county_code=d.county_code, school_year=d.school_year,
        file_name=clip(d.file_name), status=d.status, errors=d.errors, warnings=d.warnings,
        schools=d.schools,
        # The reason sums up the same findings: it is only news when there are none to list.
        reason=(clip(d.rejection_reason, 300)
                if d.status == "rejected" and d.rejection_reason and not relevant else None),
        held_reason=clip(d.held_reason, 300) if d.held_reason else None,
        replaced_submission_id=d.replaced_submission_id,
        report=link(settings, d.report_path) if d.status == "rejected" else None,
        report_files=_report_files(d.report_path) if d.status == "rejected" else (),
        checks=tuple(_check_view(c) for c in relevant),
    )


def owed_groups(owed: Iterable[Owed]) -> tuple[OwedGroup, ...]:
    groups: dict[tuple[int, date, str], list[str]] = {}
    for item in owed:
        groups.setdefault((item.school_year, item.deadline, item.state), []).append(
            item.county_code)
    return tuple(OwedGroup(y, d, s, tuple(sorted(c))) for (y, d, s), c in sorted(groups.items()))


def digest_view(facts: RunFacts, settings: Settings, day: str, owed: Sequence[Owed], *,
                scope: Bi | None = None, in_scope: Callable[[str], bool] = lambda _: True,
                report_link: str | None = None, notes: Sequence[Bi] = (),
                problems: Sequence[Bi] = (), undelivered: Sequence[Undelivered] = ()
                ) -> DigestView:
    """The digest of the night for the counties `in_scope` (every county by default)."""
    mine = [d for d in facts.decisions if in_scope(d.county_code)]
    views = {d.submission_id: file_view(d, settings) for d in mine}

    def of(decisions: Iterable[Decision]) -> tuple[FileView, ...]:
        return tuple(views[d.submission_id] for d in decisions)

    owed_here = [o for o in owed if in_scope(o.county_code)]
    return DigestView(
        run_id=facts.run_id, day=day, scope=scope,
        run_failed=facts.run_status == "failed",
        run_message=clip(facts.run_message, 200) if facts.run_message else None,
        report_link=report_link,
        duplicates=sum(n for county, n in facts.duplicates.items() if in_scope(county)),
        rejected=of(d for d in mine if d.status == "rejected"),
        held=of(d for d in mine if d.status == "held"),
        warned=of(d for d in mine if d.status == "accepted" and d.has_warnings),
        accepted=of(d for d in mine if d.status == "accepted"),
        late=owed_groups(o for o in owed_here if o.phase == "late"),
        due=owed_groups(o for o in owed_here if o.phase == "due"),
        notes=tuple(notes), problems=tuple(problems), undelivered=tuple(undelivered),
    )


# ---- `edustat check` ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictView:
    file_name: str
    county_code: str
    school_year: int | None
    accepted: bool
    errors: int
    warnings: int
    checks: tuple[CheckView, ...]
    report: tuple[str, str] | None  # the rejection report's HTML and CSV
    history: Bi
    notes: tuple[Bi, ...]


def summarize(findings: Sequence[Finding]) -> list[CheckSummary]:
    """Findings grouped as the night's messages group them (notices.facts, in SQL): per check,
    severity and column, the count summed, examples the first rows, errors first, then by count."""
    groups: dict[tuple[str, str, str | None], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.check_id, f.severity, f.column), []).append(f)
    out = []
    for (check_id, severity, column), items in groups.items():
        items.sort(key=lambda f: (f.row_number is not None, f.row_number or 0))
        out.append(CheckSummary(
            check_id, severity, column, sum(f.failing_count for f in items),
            tuple(Example(f.row_number, f.value, f.school_code) for f in items[:5]),
            items[0].message_zh, items[0].message_en))
    out.sort(key=lambda c: (c.severity != "critical", -c.count, c.check_id))
    return out


def verdict_view(verdict: Any, report: tuple[Path, Path] | None) -> VerdictView:
    return VerdictView(
        file_name=clip(verdict.path.name), county_code=verdict.county,
        school_year=verdict.school_year, accepted=verdict.accepted, errors=verdict.errors,
        warnings=verdict.warnings,
        checks=tuple(_check_view(c) for c in summarize(verdict.findings)),
        report=(str(report[0]), str(report[1])) if report else None,
        history=verdict.history, notes=tuple(verdict.notes),
    )
