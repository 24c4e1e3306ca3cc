"""Alerts people can act on: one digest per run, an immediate alert when a task fails.

    digest = build_digest(dsn, run_id, settings, report_url, expected_counties, years)
    if digest is not None:
        send(digest, settings.alert_urls)        # never raises; returns a DeliveryReport

    PythonOperator(..., on_failure_callback=task_failure_callback)

Receivers are Apprise URLs (EDUSTAT_ALERT_URLS, space-separated), for example:

    mailto://smtp.example.org:25?from=edustat@example.org&to=ops@example.org   plain SMTP
    mailtos://user:pass@smtp.example.org:587?from=edustat@example.org&to=ops@example.org
    dingtalk://ACCESS_TOKEN/            dingtalk://SECRET@ACCESS_TOKEN/   (signed robot)
    wecombot://WEBHOOK_KEY              slack://TOKEN_A/TOKEN_B/TOKEN_C/#channel
    json://host:port/path               (the payload also carries the digest as "edustat")

Importing this module does not import Apprise or psycopg, so a DAG file may import it at
parse time.
"""

from edustat.alerting.delivery import DeliveryReport, TargetResult, send
from edustat.alerting.digest import Digest
from edustat.alerting.failure import failure_digest, task_failure_callback
from edustat.alerting.run_digest import build_digest, render_run_digest

__all__ = [
    "DeliveryReport",
    "Digest",
    "TargetResult",
    "build_digest",
    "failure_digest",
    "render_run_digest",
    "send",
    "task_failure_callback",
]
