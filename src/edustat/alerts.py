"""Alerts people can act on: the notices of each night, an immediate alert when a task fails.

    outcome = notify_night(settings, dsn, run_id)   # county notices, reminders, digests;
                                                    # recorded in ops.deliveries, never raises
    digest = build_digest(dsn, run_id, settings)    # the full digest alone (None: all well)
    report = send(digest, settings.alert_urls)      # never raises; returns a DeliveryReport

    PythonOperator(..., on_failure_callback=task_failure_callback)

Receivers are Apprise URLs: EDUSTAT_ALERT_URLS (space-separated; the full digest and failure
alerts) and the rows of EDUSTAT_CONTACTS (edustat.notices.contacts: who gets which notice).
For example:

    mailto://smtp.example.org:25?from=edustat@example.org&to=ops@example.org   plain SMTP
    mailtos://user:pass@smtp.example.org:587?from=edustat@example.org&to=ops@example.org
    dingtalk://ACCESS_TOKEN/            dingtalk://SECRET@ACCESS_TOKEN/   (signed robot)
    wecombot://WEBHOOK_KEY              slack://TOKEN_A/TOKEN_B/TOKEN_C/#channel
    json://host:port/path               (the payload also carries the notice as "edustat")

Importing this module does not import Apprise or psycopg, so a DAG file may import it at
parse time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edustat.alerting.delivery import DeliveryReport, TargetResult, send
from edustat.alerting.digest import Digest
from edustat.alerting.failure import failure_digest, task_failure_callback

if TYPE_CHECKING:
    from edustat.config import Settings
    from edustat.notices.night import NightNotices


def build_digest(dsn: str, run_id: str, settings: Settings) -> Digest | None:
    from edustat.notices.night import build_digest as build

    return build(dsn, run_id, settings)


def notify_night(settings: Settings, dsn: str, run_id: str) -> NightNotices:
    from edustat.notices.night import notify_night as notify

    return notify(settings, dsn, run_id)


__all__ = [
    "DeliveryReport",
    "Digest",
    "TargetResult",
    "build_digest",
    "failure_digest",
    "notify_night",
    "send",
    "task_failure_callback",
]
