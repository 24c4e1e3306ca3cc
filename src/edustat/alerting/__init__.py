"""Alerts: the message type, its delivery through Apprise, and the task-failure alert.

The public entry points are re-exported by `edustat.alerts`; the modules here are the parts:
`digest` (the message: title, bilingual body, short body, JSON fields, attachments),
`delivery` (Apprise with retries, destinations redacted), `failure` (the Airflow failure
callback), `deadline` (the missing-deadline calendar), `text` (clipping helpers). What the
night tells whom is edustat.notices.
"""
