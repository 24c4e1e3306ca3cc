"""A night's phases from Airflow's own metadata DB: one row per task of the DAG run.

The DAG's task ids are the phase names (discover → … → finalize). A task that ran twice
(retry) counts with its last try's times: Airflow keeps only that in task_instance, and a
retried night is reported as such through `tries`.

A task instance's duration also holds Airflow's own start-up of that task: under `airflow dags
test` the first task of the process waits for the in-process execution API to come up (10-20 s
on two cores) before the task's code runs. The run's log says when each task's code got going
("Task started", after "[DAG TEST] starting task_id=…"); the time from the instance's start to
that line is counted as Airflow's, not the phase's.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from edustat.schedule import DAG_ID
from edustat.schedule import TASKS as TASK_ORDER


@dataclass
class Phase:
    task_id: str
    seconds: float
    state: str
    tries: int
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class NightPhases:
    run_id: str
    phases: dict[str, Phase] = field(default_factory=dict)
    # Per task: seconds of Airflow's start-up inside the task instance (from the run's log).
    startup: dict[str, float] = field(default_factory=dict)

    @property
    def task_seconds(self) -> float:
        return sum(p.seconds for p in self.phases.values())

    @property
    def startup_seconds(self) -> float:
        return sum(self.startup.values())

    def work(self, task_id: str) -> float:
        """The task's own seconds: its instance's duration less Airflow's start-up in it."""
        return self.phases[task_id].seconds - self.startup.get(task_id, 0.0)

    def overhead(self, wall: float) -> float:
        """What the night cost beyond its tasks: CLI and Airflow start-up, DAG parsing,
        scheduling between tasks, the summary."""
        return wall - self.task_seconds


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def read_phases(airflow_db: Path, run_id: str, dag_id: str = DAG_ID) -> NightPhases:
    """The tasks of one DAG run, from a SQLite Airflow metadata DB (what `edustat run` uses)."""
    uri = f"file:{airflow_db}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute(
            """SELECT task_id, start_date, end_date, duration, state, try_number
               FROM task_instance WHERE dag_id = ? AND run_id = ? AND map_index = -1""",
            (dag_id, run_id)).fetchall()
    night = NightPhases(run_id)
    for task_id, start, end, duration, state, tries in rows:
        begin, finish = _ts(start), _ts(end)
        seconds = duration if duration is not None else (
            (finish - begin).total_seconds() if begin and finish else 0.0)
        night.phases[task_id] = Phase(task_id, float(seconds), state or "?", int(tries),
                                      begin, finish)
    return night


def latest_run_id(airflow_db: Path, dag_id: str = DAG_ID) -> str | None:
    uri = f"file:{airflow_db}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        row = conn.execute("SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC"
                           " LIMIT 1", (dag_id,)).fetchone()
    return row[0] if row else None


_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+)Z? .*?(\[DAG TEST\] starting task_id=(\S+)"
                       r"|Task started)")


def task_started(log_text: str) -> dict[str, datetime]:
    """Per task, when its code started ("Task started") according to a run's log (UTC)."""
    started: dict[str, datetime] = {}
    task: str | None = None
    for line in log_text.splitlines():
        found = _LOG_LINE.match(line)
        if not found:
            continue
        if found.group(3):
            task = found.group(3)
        elif task is not None and task not in started:
            started[task] = datetime.fromisoformat(found.group(1))
    return started


def apply_log(night: NightPhases, log_text: str) -> NightPhases:
    """Split each task instance's seconds into Airflow start-up and the task's own work."""
    for task_id, when in task_started(log_text).items():
        phase = night.phases.get(task_id)
        if phase is None or phase.start is None:
            continue
        waited = (when - phase.start).total_seconds()
        night.startup[task_id] = min(max(waited, 0.0), phase.seconds)
    return night


def median_phases(nights: list[NightPhases], order: tuple[str, ...] = TASK_ORDER
                  ) -> dict[str, float]:
    """Per task, the median of its own seconds (`work`) over the nights (absent: skipped)."""
    names = [t for t in order if any(t in n.phases for n in nights)]
    names += sorted({t for n in nights for t in n.phases} - set(names))
    return {t: statistics.median(n.work(t) for n in nights if t in n.phases) for t in names}


def peak_by_task(night: NightPhases, timeline: list[tuple[float, int]]) -> dict[str, int]:
    """Per task, the largest single-process RSS sampled while it ran (bytes).

    Airflow stores task times as naive UTC; the sampler's are epoch seconds.
    """
    peaks: dict[str, int] = {}
    for task_id, phase in night.phases.items():
        if phase.start is None or phase.end is None:
            continue
        begin = phase.start.replace(tzinfo=UTC).timestamp()
        end = phase.end.replace(tzinfo=UTC).timestamp()
        inside = [rss for when, rss in timeline if begin <= when <= end]
        if inside:
            peaks[task_id] = max(inside)
    return peaks
