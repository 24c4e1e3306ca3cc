"""Alerts: the nightly digest, the task-failure alert, and their delivery through Apprise.

The public entry points are re-exported by `edustat.alerts`; the modules here are the parts:
`run_facts` (what the ops tables say about a run), `run_digest` (the digest text and fields),
`failure` (the Airflow failure callback), `delivery` (Apprise with retries), `text` (shared
wording helpers).
"""
