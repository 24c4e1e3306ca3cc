"""One night as users run it: `edustat run` in a subprocess, timed, its memory sampled.

The wall clock is the subprocess's, from start to exit (what an operator waits). The phases
come from Airflow's metadata DB under the night's EDUSTAT_HOME, the outcome from ops.runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from benchkit.memory import MemoryPeak, TreeSampler
from benchkit.phases import NightPhases, apply_log, latest_run_id, peak_by_task, read_phases

EDUSTAT = str(Path(sys.executable).parent / "edustat")
_RUN_ID = re.compile(r"运行 run (\S+): ")
_AIRFLOW_LOG = re.compile(r"Airflow log: (\S+)")


class NightFailed(RuntimeError):
    pass


@dataclass
class Night:
    label: str
    wall: float
    returncode: int
    phases: NightPhases
    memory: MemoryPeak
    outcome: dict  # the ops.runs row: status, files_seen, new_submissions, accepted, ...
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    log: Path
    memory_by_task: dict[str, int] = field(default_factory=dict)

    def memory_facts(self) -> dict:
        """The memory peak without its timeline (thousands of samples), for results files."""
        facts = {k: v for k, v in asdict(self.memory).items() if k != "timeline"}
        facts["max_process_rss_by_task"] = self.memory_by_task
        return facts


def night_env(home: Path, dsn: str) -> dict[str, str]:
    env = dict(os.environ)
    # Nothing of the caller's configuration leaks into a measured night: no alerts sent,
    # jurisdiction = the provinces seen, limits at their defaults.
    for key in list(env):
        if key.startswith(("EDUSTAT_", "AIRFLOW_", "AIRFLOW__")):
            del env[key]
    env.update({"EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": dsn})
    return env


def measure(cmd: list[str], env: dict[str, str], log: Path, timeout: float,
            interval: float = 0.2) -> tuple[float, int, MemoryPeak]:
    """Run `cmd` with its output in `log`; (wall seconds, exit code, memory peak)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with TreeSampler(proc.pid, interval) as sampler:
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                code = -9
        wall = time.monotonic() - started
    return wall, code, sampler.peak


def _outcome(dsn: str, run_id: str) -> dict:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            """SELECT status, files_seen, new_submissions, accepted, rejected, duplicates,
                      warnings, dbt_status, message
               FROM ops.runs WHERE run_id = %s""", (run_id,))
        row = cur.fetchone()
        names = [d.name for d in cur.description or []]
    return dict(zip(names, row, strict=True)) if row else {}


def run_night(label: str, home: Path, dsn: str, logs: Path, timeout: float = 3600,
              landing: Path | None = None) -> Night:
    """`edustat run` on EDUSTAT_HOME=home (landing: home/landing unless given)."""
    cmd = [EDUSTAT, "run"]
    if landing is not None:
        cmd += ["--landing", str(landing)]
    load_before = os.getloadavg()
    wall, code, peak = measure(cmd, night_env(home, dsn), logs / f"{label}.log", timeout)
    load_after = os.getloadavg()
    text = (logs / f"{label}.log").read_text(encoding="utf-8", errors="replace")
    found = _RUN_ID.search(text)
    airflow_db = home / "airflow" / "airflow.db"
    run_id = found.group(1) if found else latest_run_id(airflow_db)
    if run_id is None:
        raise NightFailed(f"{label}: no DAG run found (exit {code}); see {logs / label}.log")
    phases = read_phases(airflow_db, run_id)
    airflow_log = _AIRFLOW_LOG.search(text)
    if airflow_log and Path(airflow_log.group(1)).exists():
        apply_log(phases, Path(airflow_log.group(1)).read_text(encoding="utf-8",
                                                                errors="replace"))
    outcome = _outcome(dsn, run_id)
    night = Night(label, wall, code, phases, peak, outcome, load_before, load_after,
                  logs / f"{label}.log", peak_by_task(phases, peak.timeline))
    if code != 0 or outcome.get("status") != "success":
        failed = [p.task_id for p in phases.phases.values() if p.state != "success"]
        raise NightFailed(f"{label}: the night failed (exit {code}, tasks not successful: "
                          f"{failed}); see {night.log} and the Airflow log it names")
    return night
