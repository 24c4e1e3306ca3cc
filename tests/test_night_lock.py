"""One night at a time, and every night closed and announced, whatever happened to it.

Protects (issue: reliability, items 4 and 5): two runs working in one warehouse at once (two
builds in `marts_next`, decisions taken twice); a second run that hangs or fails with a
traceback instead of one line naming the night under way; a killed run that keeps the
warehouse locked or stays `running` forever; the decisions of a night that crashed before its
digest never being announced (the next digest said "accepted 0, rejected 0").
Real Postgres, real steps; the other night runs in a forked process.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat import pipeline
from edustat.config import load_settings
from edustat.intake import landing
from edustat_synth.generate import generate
from support.crash import KillPoint, run_killed
from support.receiver import json_receiver

NIGHT = datetime(2026, 3, 1, tzinfo=UTC)


def _ctx(settings, run_id: str, landing_dir: Path) -> pipeline.RunContext:
    return pipeline.RunContext(run_id=run_id, logical_date=NIGHT, landing=landing_dir,
                               settings=settings)


def _settings(tmp_path: Path, dsn: str, **extra: str):
    return load_settings({"EDUSTAT_HOME": str(tmp_path / "home"), "EDUSTAT_WAREHOUSE_DSN": dsn,
                          **extra})


def _start_blocked(ctx: pipeline.RunContext, release: Path) -> multiprocessing.Process:
    """Run A's discovery in a child that stops inside it (holding the night lock) until
    `release` exists."""

    def child() -> None:
        original = landing.register

        def waiting(*args, **kwargs):
            while not release.exists():
                time.sleep(0.1)
            return original(*args, **kwargs)

        landing.register = waiting
        pipeline.discover(ctx)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    return process


def _wait_for_holder(dsn: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        holder = pipeline.night_in_progress(dsn)
        if holder is not None:
            return holder
        time.sleep(0.1)
    raise AssertionError("the other night never took the lock")


def test_a_second_night_is_refused_in_one_line_and_later_steps_wait(
        warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, warehouse)
    (tmp_path / "landing").mkdir()
    release = tmp_path / "release"
    first = _start_blocked(_ctx(settings, "night-A", tmp_path / "landing"), release)
    try:
        holder = _wait_for_holder(warehouse)
        assert (holder.run_id, holder.step) == ("night-A", "discover")
        second = _ctx(settings, "night-B", tmp_path / "landing")
        started = time.monotonic()
        with pytest.raises(pipeline.NightInProgress) as refused:
            pipeline.discover(second)
        assert time.monotonic() - started < 5  # refused at once, not after a wait
        line = str(refused.value)
        assert "\n" not in line and "night-A" in line and "discover" in line
        assert "另一晚的运行" in line and "another night" in line
        # A later step of a run under way waits for the lock instead of refusing...
        waited: list[object] = []
        thread = threading.Thread(
            target=lambda: waited.append(pipeline.validate(second)), daemon=True)
        thread.start()
        time.sleep(3)
        assert thread.is_alive() and not waited
        release.touch()  # ...and goes on once the other night's step is done.
        thread.join(120)
        assert waited and not thread.is_alive()
    finally:
        release.touch()
        first.join(60)
    assert first.exitcode == 0
    closed = pipeline.finalize(second)
    with psycopg.connect(warehouse) as conn:
        status, note = conn.execute(
            "SELECT status, note FROM ops.runs WHERE run_id = 'night-B'").fetchone()
    assert closed["status"] == "failed" and status == "failed"
    assert "night-A" in note


def test_a_killed_night_frees_the_warehouse_and_the_next_closes_it(
        warehouse: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, warehouse)
    landing_dir = tmp_path / "landing"
    generate("63", [2025], landing_dir, seed=4, counties=1)
    killed = _ctx(settings, "night-A", landing_dir)
    pipeline.discover(killed)
    code = run_killed(lambda: pipeline.read_and_stage(killed),
                      KillPoint(pipeline, "copy_school_rows"))
    assert code == -9
    # The kill took the lock with it: nothing holds the warehouse, nothing is left open.
    assert pipeline.night_in_progress(warehouse) is None
    with psycopg.connect(warehouse) as conn:
        sessions = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%%'").fetchone()[0]
    assert sessions == 0
    pipeline.discover(_ctx(settings, "night-B", landing_dir))
    with psycopg.connect(warehouse) as conn:
        runs = dict(conn.execute("SELECT run_id, status FROM ops.runs").fetchall())
        note = conn.execute("SELECT note FROM ops.runs WHERE run_id = 'night-A'").fetchone()[0]
    assert runs == {"night-A": "failed", "night-B": "running"}
    assert "night-B" in note


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    with json_receiver() as (url, received):
        yield url, received


def _intake(ctx: pipeline.RunContext) -> None:
    for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                  pipeline.decide):
        stage(ctx)


def _digest_fields(messages: list[dict]) -> dict:
    """The `edustat` fields of the last digest the receiver got."""
    return messages[-1]["edustat"]


def test_a_crashed_nights_decisions_are_announced_by_the_next_digest(
        warehouse: str, tmp_path: Path, receiver: tuple[str, list[dict]]) -> None:
    settings = _settings(tmp_path, warehouse, EDUSTAT_ALERT_URLS=receiver[0],
                         EDUSTAT_ALERT_ALWAYS="1")
    landing_dir = tmp_path / "landing"
    summary = generate("63", [2025], landing_dir, seed=8, counties=2, faulty=1)
    crashed = _ctx(settings, "night-A", landing_dir)
    _intake(crashed)
    # Its closing step dies after claiming the decisions, before its digest goes out.
    from edustat.notices import night

    assert run_killed(lambda: pipeline.finalize(crashed), KillPoint(night, "send")) == -9
    assert receiver[1] == []

    nxt = _ctx(settings, "night-B", landing_dir)
    _intake(nxt)
    pipeline.finalize(nxt)
    fields = _digest_fields(receiver[1])
    faulty = summary.faulty[0].county_code
    good = next(c for c in summary.counties if c != faulty)
    assert fields["counts"]["accepted"] == 1 and fields["counts"]["rejected"] == 1
    assert [d["county_code"] for d in fields["rejected"]] == [faulty]
    assert [d["county_code"] for d in fields["accepted"]] == [good]
    with psycopg.connect(warehouse) as conn:
        announced = {r[0] for r in conn.execute(
            "SELECT announced_run_id FROM ops.submissions WHERE decided_run_id IS NOT NULL")}
    assert announced == {"night-B"}
    # Announced once: the night after has nothing more to say about them.
    last = _ctx(settings, "night-C", landing_dir)
    _intake(last)
    pipeline.finalize(last)
    fields = _digest_fields(receiver[1])
    assert fields["run_id"] == "night-C"
    assert fields["counts"]["accepted"] == 0 and fields["counts"]["rejected"] == 0
