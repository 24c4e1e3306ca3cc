"""Where each county-year stands, as the warehouse defines it, and what is owed on a night.

The rule itself is SQL, once (ops.county_year_status in warehouse/schema.sql, also read by dbt's
submission_status mart and `edustat status`); this module only calls it with the settings and
adds the calendar: a county-year still without a valid file is *due* from
EDUSTAT_REMINDER_DAYS before EDUSTAT_MISSING_DEADLINE and *late* after it, judged on the night's
logical date in Beijing (alerting.deadline), never on the wall clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from edustat.alerting.deadline import deadline_for, local_day
from edustat.config import Settings

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class CountyYear:
    """One row of ops.county_year_status (same names, same order)."""

    county_code: str
    school_year: int
    county_name: str | None
    prefecture_code: str
    province_code: str
    expected: bool
    in_jurisdiction: bool
    status: str  # accepted | held | rejected | missing
    accepted_submission_id: int | None
    accepted_at: datetime | None
    accepted_file_name: str | None
    warnings: int | None
    replaced_submission_id: int | None
    held_submission_id: int | None
    held_at: datetime | None
    held_reason: str | None
    last_rejected_submission_id: int | None
    last_rejected_at: datetime | None
    last_rejection_reason: str | None
    last_rejected_errors: int | None
    files_received: int
    files_rejected: int
    files_pending: int
    files_unreadable: int


_COLUMNS = ", ".join(f.name for f in fields(CountyYear))


def county_year_status(conn: psycopg.Connection, settings: Settings,
                       through_year: int | None = None, year: int | None = None
                       ) -> list[CountyYear]:
    """Every county-year expected (by the settings) or with a decided file, sorted."""
    jurisdiction = list(settings.jurisdiction) if settings.jurisdiction else None
    rows = conn.execute(
        f"""SELECT {_COLUMNS} FROM ops.county_year_status(%s::text[], %s::integer, %s::integer)
            WHERE %s::integer IS NULL OR school_year = %s::integer
            ORDER BY county_code, school_year""",
        (jurisdiction, settings.first_year, through_year, year, year)).fetchall()
    return [CountyYear(*row) for row in rows]


Phase = Literal["due", "late"]
State = Literal["missing", "rejected_only"]


@dataclass(frozen=True)
class Owed:
    """An expected county-year with no valid file, inside its reminder window or past it."""

    county_code: str
    school_year: int
    deadline: date
    phase: Phase
    state: State  # missing: nothing received; rejected_only: every file was rejected
    days_left: int  # negative once late


def through_year(settings: Settings, logical_date: datetime) -> int | None:
    """The latest school year whose reminders have started on this night (None: bad setting).

    Year Y is due on the deadline day of Y+1; its reminders start reminder_days before.
    """
    day = local_day(logical_date)
    try:
        for year in (day.year, day.year - 1, day.year - 2):
            if deadline_for(year, settings.missing_deadline) - timedelta(
                    days=settings.reminder_days) <= day:
                return year
    except ValueError:
        return None
    return None


def owed(rows: Sequence[CountyYear], settings: Settings, logical_date: datetime) -> list[Owed]:
    """What the expected counties owe on this night. Raises ValueError for a bad deadline.

    A county with a file received but not decided yet owes nothing: that file may be the one.
    A file that could not be read has no year: it counts as a rejected attempt for every year.
    """
    day = local_day(logical_date)
    out: list[Owed] = []
    for row in rows:
        if not row.expected or row.status not in ("missing", "rejected") or row.files_pending:
            continue
        deadline = deadline_for(row.school_year, settings.missing_deadline)
        if day > deadline:
            phase: Phase = "late"
        elif day >= deadline - timedelta(days=settings.reminder_days):
            phase = "due"
        else:
            continue
        state: State = ("rejected_only" if row.status == "rejected" or row.files_unreadable
                        else "missing")
        out.append(Owed(row.county_code, row.school_year, deadline, phase, state,
                        (deadline - day).days))
    return out
