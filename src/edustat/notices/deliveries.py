"""ops.deliveries: every message tried, per destination; what was already sent this week.

Recording never fails the night: a delivery that cannot be recorded is logged and forgotten
(the message itself went out or not regardless). "This week" is judged on logical dates, the
nights' own calendar, never on the wall clock: a backfilled night sees what it would have seen.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from edustat.alerting.delivery import TargetResult

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("edustat.alerts")

# Reminders, late notices and quiet-night region digests: at most once per this many days.
REPEAT_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Sent:
    run_id: str
    logical_date: datetime
    kind: str
    region_code: str | None
    destination: str
    reminder_years: tuple[int, ...]
    late_years: tuple[int, ...]


class Ledger:
    """The deliveries that matter to one night: its own, and the week before it."""

    def __init__(self, conn: psycopg.Connection, run_id: str, logical_date: datetime) -> None:
        self.conn = conn
        self.run_id = run_id
        self.logical_date = logical_date
        self.sent = [
            Sent(r[0], r[1], r[2], r[3], r[4], tuple(r[5]), tuple(r[6]))
            for r in conn.execute(
                """SELECT run_id, logical_date, kind, region_code, destination, reminder_years,
                          late_years
                   FROM ops.deliveries
                   WHERE outcome = 'delivered'
                     AND (run_id = %s OR (logical_date > %s AND logical_date <= %s))""",
                (run_id, logical_date - REPEAT_AFTER, logical_date))
        ]

    def sent_this_run(self, kind: str, region: str | None, destination: str) -> bool:
        return any(s.run_id == self.run_id and s.kind == kind and s.region_code == region
                   and s.destination == destination for s in self.sent)

    def _this_week(self, region: str | None, destination: str) -> list[Sent]:
        since = self.logical_date - REPEAT_AFTER
        return [s for s in self.sent if s.region_code == region and s.destination == destination
                and since < s.logical_date <= self.logical_date]

    def reminded(self, region: str, destination: str, year: int, late: bool) -> bool:
        """A reminder (or late notice) for this year reached this destination this week."""
        return any(year in (s.late_years if late else s.reminder_years)
                   for s in self._this_week(region, destination))

    def digest_this_week(self, region: str, destination: str) -> bool:
        return any(s.kind == "region_digest" for s in self._this_week(region, destination))

    def record(self, kind: str, region: str | None, result: TargetResult, title: str,
               reminder_years: Sequence[int] = (), late_years: Sequence[int] = (),
               outcome: str | None = None) -> None:
        outcome = outcome or ("delivered" if result.delivered else "failed")
        try:
            with self.conn.transaction():
                self.conn.execute(
                    """INSERT INTO ops.deliveries (run_id, logical_date, kind, region_code,
                           reminder_years, late_years, destination, outcome, attempts, error,
                           title)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    (self.run_id, self.logical_date, kind, region, list(reminder_years),
                     list(late_years), result.target, outcome, result.attempts,
                     result.error, title[:500]))
        except Exception:
            log.exception("投递记录写入失败 / could not record a delivery to %s", result.target)
            return
        if outcome == "delivered":
            self.sent.append(Sent(self.run_id, self.logical_date, kind, region, result.target,
                                  tuple(reminder_years), tuple(late_years)))


def failed_count(conn: psycopg.Connection, run_id: str) -> int:
    """Destinations of the run whose latest attempt was not delivered (a retried finalize that
    got through counts as delivered)."""
    return conn.execute(
        """SELECT count(*) FROM (
               SELECT DISTINCT ON (kind, region_code, destination) outcome FROM ops.deliveries
               WHERE run_id = %s
               ORDER BY kind, region_code, destination, delivery_id DESC) latest
           WHERE outcome <> 'delivered'""", (run_id,)).fetchone()[0]
