"""The night's schedule, declared once: the DAG wires it, the CLI and the docs quote it.

Only the standard library: the DAG file imports this at parse time.
"""

from __future__ import annotations

from datetime import timedelta

DAG_ID = "edustat_nightly"
CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"
RETRIES = 1
# Long enough for a restarted warehouse or a full disk freed by hand to come back.
RETRY_DELAY = timedelta(minutes=5)
# The tasks of the night, in order: each is the pipeline step of the same name
# (edustat.pipeline), so ops.runs.steps_done, task logs and queues use one set of names.
TASKS = ("discover", "read_and_stage", "validate", "decide", "build_marts", "build_reports",
         "finalize")
