"""When a county's submission for a school year is late.

Settings.missing_deadline is "MM-DD": a county with nothing for year Y by that day of year Y+1
is late. The day is judged on the run's logical date in China Standard Time (UTC+8, no DST),
because the counties' deadline is a Beijing calendar day; never on the wall clock, so a
backfilled run says what was true on its own date.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def parse_deadline(mm_dd: str) -> tuple[int, int]:
    """("03-31") -> (3, 31); ValueError for anything that is not a day of the year."""
    month_text, sep, day_text = mm_dd.strip().partition("-")
    if not sep or not month_text.isdigit() or not day_text.isdigit():
        raise ValueError(f"missing_deadline must be MM-DD, got {mm_dd!r}")
    month, day = int(month_text), int(day_text)
    date(2000, month, day)  # a leap year, so 02-29 is accepted; raises ValueError otherwise
    return month, day


def deadline_for(school_year: int, mm_dd: str) -> date:
    """The last day a submission for `school_year` is on time (02-29 becomes 02-28 if needed)."""
    month, day = parse_deadline(mm_dd)
    year = school_year + 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def local_day(logical_date: datetime) -> date:
    """The China calendar day of a logical date (naive datetimes are taken as UTC)."""
    if logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=UTC)
    return logical_date.astimezone(CHINA_TZ).date()


def is_past_deadline(school_year: int, mm_dd: str, logical_date: datetime) -> bool:
    """True once the deadline day is over: the run's day is after it."""
    return local_day(logical_date) > deadline_for(school_year, mm_dd)
