"""After each night: a notice to exactly the people responsible, at every level.

- each county with a file decided tonight: one message at its own destinations (a receipt,
  the reasons of a rejection, a held file), carrying its reminders too;
- a county that owes a year: a reminder from EDUSTAT_REMINDER_DAYS before the deadline, a late
  notice after it, at most once a week each per destination;
- each prefecture and province contact: the digest of its region, on nights its counties had
  files decided (or the run failed), else at most weekly while some owe a year;
- `national` contacts and EDUSTAT_ALERT_URLS: the full digest, when something is wrong (or
  always, EDUSTAT_ALERT_ALWAYS), listing the notices that could not be delivered.

Every delivery is recorded in ops.deliveries; a failed one is counted on ops.runs.alerts_failed
and never fails the run. A retried finalize does not send again what was delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from edustat.alerting.deadline import local_day, parse_deadline
from edustat.alerting.delivery import TargetResult, destination, send
from edustat.alerting.digest import Digest
from edustat.config import Settings
from edustat.divisions import county_name, division
from edustat.notices.contacts import Contacts, load_contacts
from edustat.notices.deliveries import Ledger, failed_count
from edustat.notices.facts import Decision, RunFacts, load_run_facts
from edustat.notices.fields import county_fields, digest_fields
from edustat.notices.model import (
    CountyView,
    DigestView,
    Undelivered,
    digest_view,
    file_view,
    link,
)
from edustat.notices.render import render_message
from edustat.notices.status import Owed, county_year_status, owed, through_year
from edustat.notices.wording import Bi

log = logging.getLogger("edustat.alerts")

NOT_BUILT = "（未生成 not built）"  # ops.deliveries.destination of a message that failed to build


@dataclass
class NightNotices:
    """What the notices of one night came to."""

    sent: int = 0  # destinations that got a message
    failed: int = 0  # destinations of this run whose last attempt failed (ops.runs.alerts_failed)
    digest: bool = False  # the full digest was due
    undelivered: list[Undelivered] = field(default_factory=list)


@dataclass(frozen=True)
class Night:
    facts: RunFacts
    day: str
    owed: tuple[Owed, ...]
    notes: tuple[Bi, ...]
    report_link: str | None


def load_night(conn: psycopg.Connection, run_id: str, settings: Settings) -> Night:
    facts = load_run_facts(conn, run_id)
    notes: list[Bi] = []
    owed_now: list[Owed] = []
    if facts.logical_date is None:
        notes.append(Bi.of("note_no_run", run=run_id))
    else:
        try:
            parse_deadline(settings.missing_deadline)
        except ValueError as exc:
            notes.append(Bi.of("note_bad_deadline", error=exc))
        else:
            rows = county_year_status(conn, settings, through_year(settings, facts.logical_date))
            owed_now = owed(rows, settings, facts.logical_date)
    day = local_day(facts.logical_date).isoformat() if facts.logical_date else "?"
    index = settings.reports / "index.html"
    return Night(facts, day, tuple(owed_now), tuple(notes),
                 link(settings, index) if index.exists() else None)


def full_digest_view(night: Night, settings: Settings, contacts: Contacts,
                     undelivered: Sequence[Undelivered] = ()) -> DigestView:
    return digest_view(night.facts, settings, night.day, night.owed,
                       report_link=night.report_link, notes=night.notes,
                       problems=contacts.problems,
                       undelivered=undelivered)


def build_digest(dsn: str, run_id: str, settings: Settings) -> Digest | None:
    """The night's full digest, or None when nothing is wrong and alert_always is off."""
    with psycopg.connect(dsn) as conn:
        night = load_night(conn, run_id, settings)
    view = full_digest_view(night, settings, load_contacts(settings))
    if not view.something_wrong and not settings.alert_always:
        return None
    return _digest_message(view)


def _digest_message(view: DigestView) -> Digest:
    return render_message("digest.txt.j2", view, view.severity, digest_fields(view))


def _region_scope(code: str) -> tuple[Bi, Callable[[str], bool]]:
    found = division(code)
    name = found.name if found else code
    prefix = code[:4] if found and found.level == "prefecture" else code[:2]
    return (Bi.of("county", name=name, code=code), lambda county: county.startswith(prefix))


class _Sender:
    """Sends one message to destinations, records each outcome, keeps the failures."""

    def __init__(self, ledger: Ledger, outcome: NightNotices) -> None:
        self.ledger = ledger
        self.outcome = outcome

    def __call__(self, message: Digest, urls: Sequence[str], kind: str, region: str | None,
                 what: Bi, reminder_years: Sequence[int] = (),
                 late_years: Sequence[int] = ()) -> None:
        report = send(message, urls)
        for result in report.results:
            self.ledger.record(kind, region, result, message.title, reminder_years, late_years)
            if result.delivered:
                self.outcome.sent += 1
            else:
                self.outcome.undelivered.append(
                    Undelivered(what, result.target, (result.error or "")[:200]))

    def invalid(self, kind: str, region: str, scheme: str, what: Bi) -> None:
        error = "Apprise 无法识别此地址 / Apprise cannot use this URL"
        self.ledger.record(kind, region, TargetResult(scheme, False, 0, error), "",
                           outcome="invalid")
        self.outcome.undelivered.append(Undelivered(what, scheme, error))

    @contextmanager
    def guard(self, kind: str, region: str | None, what: Bi) -> Iterator[None]:
        """One region's message that cannot even be built (a bug, bad data) is logged and
        recorded as not delivered; the other regions' messages still go out."""
        try:
            yield
        except Exception as exc:
            log.exception("通知生成失败 / could not build the %s for %s", kind, region)
            error = f"{type(exc).__name__}: {exc}"[:200]
            self.ledger.record(kind, region, TargetResult(NOT_BUILT, False, 0, error), "")
            self.outcome.undelivered.append(Undelivered(what, NOT_BUILT, error))


def _county_notices(night: Night, settings: Settings, contacts: Contacts, ledger: Ledger,
                    send_to: _Sender) -> None:
    decided: dict[str, list[Decision]] = {}
    for d in night.facts.decisions:
        decided.setdefault(d.county_code, []).append(d)
    owed_by: dict[str, list[Owed]] = {}
    for o in night.owed:
        owed_by.setdefault(o.county_code, []).append(o)
    for county in contacts.regions("county"):
        what = Bi.of("county", name=county_name(county), code=county)
        kind = "county_notice" if county in decided else "reminder"
        with send_to.guard(kind, county, what):
            _county_notice(county, decided.get(county, []), owed_by.get(county, []), night,
                           settings, contacts, ledger, send_to)


def _county_notice(county: str, decisions: list[Decision], owes: list[Owed], night: Night,
                   settings: Settings, contacts: Contacts, ledger: Ledger,
                   send_to: _Sender) -> None:
    files = tuple(file_view(d, settings) for d in decisions)
    kind = "county_notice" if files else "reminder"
    what = Bi.of("county", name=county_name(county), code=county)
    # One message per distinct content: a destination added this week still gets the reminder
    # the others already had.
    plans: dict[tuple[tuple[Owed, ...], tuple[Owed, ...]], list[str]] = {}
    for url in contacts.urls(county):
        dest = destination(url)
        if files and ledger.sent_this_run(kind, county, dest):
            continue  # a retried finalize: this one already has tonight's notice
        due = tuple(o for o in owes if o.phase == "due"
                    and not ledger.reminded(county, dest, o.school_year, late=False))
        late = tuple(o for o in owes if o.phase == "late"
                     and not ledger.reminded(county, dest, o.school_year, late=True))
        if files or due or late:
            plans.setdefault((due, late), []).append(url)
    if files or owes:
        for bad in contacts.invalid_for(county):
            send_to.invalid(kind, county, bad, what)
    for (due, late), urls in plans.items():
        view = CountyView(county, night.facts.run_id, night.day, files, due, late)
        attachments = tuple(p for f in files for p in f.report_files)
        message = render_message("county_notice.txt.j2", view, view.severity,
                                 county_fields(view), attachments)
        send_to(message, urls, kind, county, what,
                [o.school_year for o in due], [o.school_year for o in late])


def _region_digests(night: Night, settings: Settings, contacts: Contacts, ledger: Ledger,
                    send_to: _Sender) -> None:
    for region in contacts.regions("prefecture", "province"):
        scope, in_scope = _region_scope(region)
        with send_to.guard("region_digest", region, scope):
            _region_digest(region, scope, in_scope, night, settings, contacts, ledger, send_to)


def _region_digest(region: str, scope: Bi, in_scope: Callable[[str], bool], night: Night,
                   settings: Settings, contacts: Contacts, ledger: Ledger,
                   send_to: _Sender) -> None:
    view = digest_view(night.facts, settings, night.day, night.owed, scope=scope,
                       in_scope=in_scope, report_link=night.report_link)
    news = bool(view.rejected or view.accepted or view.held or view.run_failed
                or settings.alert_always)
    urls = []
    for url in contacts.urls(region):
        dest = destination(url)
        if ledger.sent_this_run("region_digest", region, dest):
            continue
        if news or ((view.late or view.due) and not ledger.digest_this_week(region, dest)):
            urls.append(url)
    if urls:
        send_to(_digest_message(view), urls, "region_digest", region, scope)
    if news or view.late or view.due:
        for bad in contacts.invalid_for(region):
            send_to.invalid("region_digest", region, bad, scope)


def notify_night(settings: Settings, dsn: str, run_id: str) -> NightNotices:
    """Send the night's notices and digests. Never raises: the data night is done whatever
    happens to its messages (a crash here is logged and counted as an undelivered alert)."""
    try:
        return _notify_night(settings, dsn, run_id)
    except Exception:
        log.exception("夜间通知出错 / the night's notices failed")
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("UPDATE ops.runs SET alerts_failed = greatest(alerts_failed, 1)"
                             " WHERE run_id = %s", (run_id,))
        except Exception:
            log.exception("无法记录通知失败 / could not record that the notices failed")
        return NightNotices(failed=1)


def _notify_night(settings: Settings, dsn: str, run_id: str) -> NightNotices:
    outcome = NightNotices()
    contacts = load_contacts(settings)
    for problem in contacts.problems:
        log.warning("%s", problem.line())
    with psycopg.connect(dsn, autocommit=True) as conn:
        night = load_night(conn, run_id, settings)
        logical = night.facts.logical_date or datetime.fromtimestamp(0).astimezone()
        ledger = Ledger(conn, run_id, logical)
        send_to = _Sender(ledger, outcome)
        if night.facts.logical_date is not None:
            _county_notices(night, settings, contacts, ledger, send_to)
            _region_digests(night, settings, contacts, ledger, send_to)
        view = full_digest_view(night, settings, contacts, outcome.undelivered)
        outcome.digest = view.something_wrong or settings.alert_always
        if outcome.digest:
            message = _digest_message(view)
            everyone = Bi.of("national_digest")
            for region, urls in ((None, settings.alert_urls),
                                 ("national", contacts.urls("national"))):
                fresh = [u for u in urls
                         if not ledger.sent_this_run("full_digest", region, destination(u))]
                if fresh or (region is None and not urls):
                    send_to(message, fresh, "full_digest", region, everyone)
            for bad in contacts.invalid_for("national"):
                send_to.invalid("full_digest", "national", bad, everyone)
        outcome.failed = failed_count(conn, run_id)
        conn.execute("UPDATE ops.runs SET alerts_failed = %s WHERE run_id = %s",
                     (outcome.failed, run_id))
    if outcome.failed:
        log.warning("告警/通知未送达 %d 处，见 ops.deliveries / %d alert deliveries failed, "
                    "see ops.deliveries", outcome.failed, outcome.failed)
    return outcome

