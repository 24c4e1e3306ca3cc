"""One night at a time: a Postgres advisory lock on the warehouse, held by each step of a run.

Two runs in the same warehouse would build in the same `marts_next`, decide the same files
twice and publish each other's half-built tables. Every pipeline step therefore holds the
warehouse's night lock while it works (a session-level advisory lock, on a connection of its
own). The lock belongs to the step's process: a step killed with -9 releases it with its
session, so a crashed night never leaves the warehouse locked.

The first step of a run refuses at once when another run holds the lock (NightInProgress,
one line naming that run and step); later steps of a run already under way wait for it.
The holder is found in pg_stat_activity: the lock's session carries the run and step in its
application_name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

log = logging.getLogger(__name__)

NIGHT_LOCK = 7_462_002  # bootstrap's is 7_462_001
_APP_PREFIX = "edustat night "
_POLL_SECONDS = 2.0
_LOG_EVERY_SECONDS = 60.0


class NightInProgress(RuntimeError):
    """Another night holds the warehouse; this run did nothing."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    step: str
    since: str  # when its step took the lock, as the server tells it

    def describe(self) -> tuple[str, str]:
        return (f"另一晚的运行 {self.run_id} 正在执行 {self.step}（自 {self.since} 起）",
                f"another night, run {self.run_id}, is running {self.step} since {self.since}")


def holder(conn: psycopg.Connection) -> Holder | None:
    """Who holds the night lock of this warehouse now, if anyone."""
    row = conn.execute(
        """SELECT a.application_name, to_char(a.query_start AT TIME ZONE 'UTC',
                  'YYYY-MM-DD HH24:MI:SS "UTC"')
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s
             AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database
                                                 WHERE datname = current_database())""",
        (NIGHT_LOCK,)).fetchone()
    if row is None:
        return None
    name, since = row
    run_id, _, step = (name or "").removeprefix(_APP_PREFIX).rpartition(" ")
    return Holder(run_id or "?", step or "?", since or "?")


def night_in_progress(dsn: str) -> Holder | None:
    """For a command about to start a run: the night under way in this warehouse, if any."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return holder(conn)


def refusal(current: Holder | None) -> NightInProgress:
    zh, en = current.describe() if current else ("另一晚的运行正在进行", "another night is running")
    return NightInProgress(f"{zh}：本次运行未做任何处理，请待其结束后再运行 / {en}: this run did "
                           "nothing; run again once it has finished")


@contextmanager
def night(dsn: str, run_id: str, step: str, wait_seconds: float) -> Iterator[None]:
    """Hold the night lock for the body; wait up to `wait_seconds` for it (0: refuse at once).

    Raises NightInProgress when it stays taken.
    """
    # application_name is capped at 63 bytes by the server: the step name goes last.
    app = f"{_APP_PREFIX}{run_id}"[: 62 - len(step)] + f" {step}"
    conn = psycopg.connect(dsn, autocommit=True, application_name=app)
    try:
        started = next_log = time.monotonic()
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (NIGHT_LOCK,)).fetchone()[0]:
            now = time.monotonic()
            if now - started >= wait_seconds:
                raise refusal(holder(conn))
            if now >= next_log:
                current = holder(conn)
                log.info("waiting for the night lock: %s",
                         current.describe()[1] if current else "held by another run")
                next_log = now + _LOG_EVERY_SECONDS
            time.sleep(_POLL_SECONDS)
        yield
    finally:
        conn.close()  # ends the session, and with it the lock
