"""Faults of the platform, not of the data, fail the night clean (issue: reliability, item 7).

Protects: a warehouse restarted while dbt builds ending in a traceback, in counties held back
for it, or in half-published marts, instead of one clear line, an alert, yesterday's marts
serving and a next run that completes; a disk that fills up under EDUSTAT_HOME losing a county's
file in the middle of its quarantine, passing silently, or publishing a half-built night.
The warehouse is a real embedded Postgres under the test's own EDUSTAT_HOME (restarting the
shared server would disturb every other test); the full disk is a real tmpfs of its own, in a
private mount namespace (`unshare`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat import alerts, pipeline
from edustat.config import load_settings
from edustat.warehouse import embedded
from edustat.warehouse.connection import create_database_if_missing, with_database
from edustat_synth.generate import generate
from support.landing import land
from support.marts_check import assert_cvs_match, fingerprint
from support.receiver import json_receiver
from support.rows import accepted_rows, write_csv

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    with json_receiver() as (url, received):
        yield url, received


def _dbt_building(dsn: str) -> bool:
    """dbt has parsed the project and connected: it is running the build's nodes."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity"
                            " WHERE application_name = 'dbt'").fetchone()[0] > 0


def test_warehouse_restarted_during_dbt_fails_clean_and_the_next_run_completes(
        tmp_path: Path, receiver: tuple[str, list[dict]]) -> None:
    pgdata = tmp_path / "pgdata"
    server = embedded.ensure_running(pgdata)
    try:
        create_database_if_missing(server, "edustat")
        dsn = with_database(server, "edustat")
        landing = tmp_path / "landing"
        generate("63", [2025], landing, seed=9, counties=2)
        settings = load_settings({"EDUSTAT_HOME": str(tmp_path / "home"),
                                  "EDUSTAT_WAREHOUSE_DSN": dsn, "EDUSTAT_ALERT_URLS": receiver[0]})
        night = pipeline.RunContext("night-1", datetime.now(UTC), landing, settings=settings)
        for step in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                     pipeline.decide):
            step(night)
        outcome: dict[str, BaseException] = {}

        def build() -> None:
            try:
                pipeline.build_marts(night)
            except BaseException as exc:  # judged below
                outcome["error"] = exc

        builder = threading.Thread(target=build)
        builder.start()
        deadline = time.monotonic() + 300
        while not _dbt_building(dsn) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert builder.is_alive(), outcome
        embedded.stop(pgdata)
        embedded.ensure_running(pgdata)
        builder.join(600)
        error = outcome.get("error")
        assert isinstance(error, RuntimeError), outcome
        line = str(error)
        assert "\n" not in line and "数据仓库" in line and "warehouse" in line
        with psycopg.connect(dsn) as conn:
            statuses = {r[0] for r in conn.execute("SELECT status FROM ops.submissions")}
            published = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchone()[0]
            dbt_status = conn.execute("SELECT dbt_status FROM ops.runs"
                                      " WHERE run_id = 'night-1'").fetchone()[0]
        assert statuses == {"accepted"}  # nobody held for the warehouse's fault
        assert published == 0 and dbt_status == "failed"
        # The alert an on-call engineer gets for the failed task carries that one line.
        digest = alerts.failure_digest({"run_id": "night-1", "exception": error,
                                        "logical_date": night.logical_date})
        alerts.send(digest, settings.alert_urls)
        assert any(m["edustat"]["error"].startswith(f"RuntimeError: {line[:200]}")
                   for m in receiver[1])

        retry = pipeline.build_marts(night)
        assert retry["dbt"] == "success"
        assert_cvs_match(dsn)
    finally:
        embedded.stop(pgdata)


class _Lines:
    """A child's stderr, drained in a thread; wait for a line containing a marker."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, marker: str, timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: any(marker in x for x in self.lines), timeout):
                raise AssertionError(f"never saw {marker!r}:\n" + "".join(self.lines[-40:]))


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                    reason="needs unshare and root to mount a tmpfs of its own")
def test_a_full_disk_fails_the_night_clean_and_loses_no_file(warehouse: str,
                                                            tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    landing = tmp_path / "landing"
    summary = generate("63", [2025], landing, seed=12, counties=2, faulty=1)
    rejected_source = next(f.path for f in summary.faulty)
    faulty_county = summary.faulty[0].county_code
    good = next(c for c in summary.counties if c != faulty_county)
    night2 = datetime.now(UTC)
    # Night 1 takes only the good county; the faulty file waits in another folder.
    held_back = tmp_path / "later" / rejected_source.name
    held_back.parent.mkdir()
    shutil.move(rejected_source, held_back)
    script = REPO / "tests" / "support" / "diskfull_night.py"
    child = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
         'mount -t tmpfs -o size=200m tmpfs "$0" && exec "$1" "$2" "$0" "$3" "$4"',
         str(home), sys.executable, str(script), str(landing), warehouse],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=REPO)
    lines = _Lines(child.stderr)
    try:
        lines.wait_for("night 1 done", 600)
        before = fingerprint(warehouse)
        # Night 2: the faulty county's file (to reject: its quarantine copy meets the full
        # disk) and a correction by the good county.
        rejected = land(held_back, landing / faulty_county / held_back.name, night2)
        original = rejected.read_bytes()
        fixed = accepted_rows(warehouse, good)
        fixed[0]["books"] = str(int(fixed[0]["books"]) + 99)
        correction = write_csv(landing / good / "更正.csv", fixed)
        child.stdin.write("\n")
        child.stdin.flush()
        lines.wait_for("disk full: decided and built", 900)
        # The night failed: the rejected file is still whole in the landing, nothing new is
        # published.
        assert rejected.read_bytes() == original
        assert fingerprint(warehouse) == before
        with psycopg.connect(warehouse) as conn:
            report = conn.execute("SELECT report_path FROM ops.submissions"
                                  " WHERE status = 'rejected'").fetchone()
        assert report == (None,)
        child.stdin.write("\n")
        child.stdin.flush()
        out, _ = child.communicate(timeout=900)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, "".join(lines.lines[-60:])
    story = json.loads(out.strip().splitlines()[-1])
    full, freed = story["full"], story["freed"]
    assert full["decide"]["type"] == "QuarantineFailed", full
    assert "\n" not in full["decide"]["message"] and "No space" in full["decide"]["message"]
    assert full["build_marts"]["type"] == "RuntimeError", full
    message = full["build_marts"]["message"]
    assert "\n" not in message and "yesterday's marts keep serving" in message, message
    assert freed == {"decide": {"ok": True}, "build_marts": {"ok": True}}, freed
    # Retried with room again: quarantined (gone from the landing), reported, published.
    assert not rejected.exists()
    with psycopg.connect(warehouse) as conn:
        statuses = dict(conn.execute("SELECT file_name, status FROM ops.submissions").fetchall())
    assert statuses[rejected.name] == "rejected"
    with psycopg.connect(warehouse) as conn:
        reported = conn.execute("SELECT report_path IS NOT NULL FROM ops.submissions"
                                " WHERE status = 'rejected'").fetchone()[0]
    assert reported
    assert statuses[correction.name] == "accepted"
    assert fingerprint(warehouse) != before
