"""Nothing lost, no county stops the nation: a province the platform has never seen, through the
real DAG (Airflow), real Postgres, real GX and real dbt (issue: reliability, "how it will be
checked").

Protects, night by night on 宁夏 (64):
- a night holding one county's typo (图书 of its largest school with extra digits, in a file
  whose name is GBK bytes), a file still being copied (cut at a row boundary) and a
  resubmission that breaks the marts build (another county's school codes), beside a
  legitimate correction: the night succeeds, the typo is rejected with its reason, the GBK name
  kept byte for byte, the half-arrived file left alone, the breaking county-year held with
  dbt's error, and the correction published;
- a night killed with SIGKILL between every pair of its commits (discovery, reading with its
  worker processes, validation, the decisions, each quarantine, the digest), each step rerun;
- the Airflow task process killed with -9 while dbt builds: dbt dies with it, no session is
  left holding the warehouse, yesterday's marts serve;
- the next night completes: nothing undecided, every rejected file quarantined with its report,
  every decision announced once (the killed night's too), the hold not retried on an
  unchanged project, the marts equal to an independent computation.
The tests run in order on one warehouse, as consecutive nights do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psutil
import psycopg
import pytest

from edustat import pipeline
from edustat.config import load_settings
from edustat.intake import landing as landing_mod
from edustat.intake import rejection_report
from edustat.notices import night as notices_night
from edustat.validation import history
from edustat_synth.generate import generate
from support.crash import KillPoint, run_killed
from support.databases import fresh_database
from support.marts_check import assert_cvs_match, fingerprint
from support.receiver import json_receiver
from support.rows import accepted_rows, write_csv

pytestmark = pytest.mark.e2e

EDUSTAT = str(Path(sys.executable).parent / "edustat")
GBK_NAME = "更正报表.csv".encode("gbk")


@pytest.fixture(scope="module")
def province(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("home")
    landing = home / "landing"
    summary = generate("64", [2025], landing, seed=21, counties=4)
    with fresh_database(pg_server, "edustat_faults") as dsn, json_receiver() as (url, received):
        env = dict(os.environ, EDUSTAT_HOME=str(home), EDUSTAT_WAREHOUSE_DSN=dsn,
                   EDUSTAT_ALERT_URLS=url)
        state = {"env": env, "dsn": dsn, "home": home, "landing": landing,
                 "counties": summary.counties, "received": received,
                 "settings": load_settings(env)}
        # The first night, in-process: the province's files as the platform knows them.
        first = _ctx(state, "night-1")
        for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                      pipeline.decide, pipeline.build_marts, pipeline.finalize):
            stage(first)
        yield state


def _ctx(state: dict, run_id: str) -> pipeline.RunContext:
    return pipeline.RunContext(run_id=run_id, logical_date=datetime.now(UTC),
                               landing=state["landing"], settings=state["settings"])


def _run(state: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([EDUSTAT, "run"], env=state["env"], capture_output=True, text=True,
                          timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def _clash(state: dict) -> list[dict]:
    """D's resubmission carrying A's schools: valid alone, a duplicate grain in the marts."""
    a, d = state["counties"][0], state["counties"][3]
    return [row | {"county_code": d} for row in accepted_rows(state["dsn"], a)]


def _books(dsn: str, school: str) -> Decimal:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT sum(books_per_student * students) FROM"
                            " marts.school_indicators WHERE school_code = %s",
                            (school,)).fetchone()[0]


def _digest(state: dict) -> dict:
    """The structured fields of the last digest the receiver got."""
    return state["received"][-1]["edustat"]


def test_one_night_with_a_typo_a_gbk_name_an_arriving_file_and_a_breaking_file(
        province: dict) -> None:
    dsn, here = province["dsn"], province["landing"]
    a, b, c, d = province["counties"]
    # B: 图书 of its largest school with five digits too many, in a file whose name came from
    # a Windows share in GBK bytes.
    typo = accepted_rows(dsn, b)
    big = max(typo, key=lambda r: int(r["primary_students"]) + int(r["junior_students"]))
    big["books"] = big["books"] + "00000"
    gbk_path = os.path.join(os.fsencode(here / b), GBK_NAME)
    write_csv(gbk_path, typo)
    # C: a legitimate correction of one school's books, and a second file still being copied.
    fix_c = accepted_rows(dsn, c)
    fixed = next(r for r in fix_c if r["senior_students"] == "0")
    fixed["books"] = str(int(fixed["books"]) + 321)
    write_csv(here / c / "更正.csv", fix_c)
    write_csv(here / c / "补报.csv", fix_c[: len(fix_c) // 2], settled=False)
    # D: a resubmission carrying A's school codes.
    write_csv(here / d / "重报.csv", _clash(province))
    before_b = accepted_rows(dsn, b)

    _run(province)
    with psycopg.connect(dsn) as conn:
        decided = {(county, name): (status, reason, held, bytes(exact))
                   for county, name, status, reason, held, exact in conn.execute(
                       """SELECT county_code, file_name, status, rejection_reason, held_reason,
                                 landing_path_bytes
                          FROM ops.submissions WHERE run_id <> 'night-1'""")}
        arriving = conn.execute("SELECT county_folder, file_name, reason"
                                " FROM ops.landing_arrivals").fetchall()
        statuses = dict(conn.execute("SELECT county_code, status FROM marts.submission_status"
                                     " WHERE county_code = ANY(%s)", ([a, b, c, d],)).fetchall())
    shown = GBK_NAME.decode("utf-8", "backslashreplace")
    assert set(decided) == {(b, shown), (c, "更正.csv"), (d, "重报.csv")}
    # The GBK name is kept byte for byte and shown escaped; the file judged on its content.
    status, reason, _, exact = decided[(b, shown)]
    assert exact == gbk_path and shown.startswith("\\x")
    assert status == "rejected" and "图书" in reason and big["books"] in reason
    assert decided[(c, "更正.csv")][0] == "accepted"
    status, _, held, _ = decided[(d, "重报.csv")]
    assert status == "held" and "unique_combination_school_indicators" in held
    # The half-copied file was not taken: recorded as arriving, left where it is.
    assert arriving == [(c, "补报.csv", "recent")] and (here / c / "补报.csv").exists()
    # The correction is published; B keeps its data; D keeps none of A's.
    assert abs(_books(dsn, fixed["school_code"]) - Decimal(fixed["books"])) < Decimal("1e-9")
    assert accepted_rows(dsn, b) == before_b
    assert statuses == {a: "accepted", b: "accepted", c: "accepted", d: "held"}
    fields = _digest(province)
    assert [x["county_code"] for x in fields["rejected"]] == [b]
    assert [x["county_code"] for x in fields["held"]] == [d]
    province["after_night_2"] = fingerprint(dsn)


def _gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.2)
    return False


def _open_transactions(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state <> 'idle'").fetchone()[0]


def test_a_night_killed_between_every_commit_recovers_step_by_step(
        province: dict, tmp_path: Path) -> None:
    dsn, here = province["dsn"], province["landing"]
    a, _, c, _ = province["counties"]
    # The copy of C's second file has finished (earlier than tonight); A sends a file with
    # text in a count.
    complete = accepted_rows(dsn, c)
    changed = next(r for r in complete if r["senior_students"] == "0")
    changed["books"] = str(int(changed["books"]) + 7)
    write_csv(here / c / "补报.csv", complete)
    province["complete"] = (changed["school_code"], Decimal(changed["books"]))
    broken = accepted_rows(dsn, a)
    broken[0]["primary_teachers"] = "不详"
    write_csv(here / a / "三报.csv", broken)
    night = _ctx(province, "night-3")

    def tonight(sql: str) -> list[tuple]:
        with psycopg.connect(dsn) as conn:
            return conn.execute(sql.replace("{run}", "'night-3'")).fetchall()

    # Discovery dies before its transaction commits: nothing of it remains.
    assert run_killed(lambda: pipeline.discover(night),
                      KillPoint(landing_mod, "record_arrivals")) == -9
    assert tonight("SELECT * FROM ops.submissions WHERE run_id = {run}") == []
    pipeline.discover(night)
    assert len(tonight("SELECT * FROM ops.submissions WHERE run_id = {run}")) == 2

    # Reading dies with its worker processes at work: they die with it, nothing stays open.
    workers = tmp_path / "workers"

    def note_workers() -> None:
        workers.write_text(" ".join(str(p.pid) for p in psutil.Process().children()))

    def parallel() -> None:
        pipeline._PARALLEL_READ_FROM = 2

    assert run_killed(lambda: pipeline.read_and_stage(night),
                      KillPoint(pipeline, "copy_school_rows", call=2, before=note_workers),
                      setup=parallel) == -9
    pids = [int(p) for p in workers.read_text().split()]
    assert len(pids) >= 2 and _gone(pids), pids
    assert _open_transactions(dsn) == 0 and pipeline.night_in_progress(dsn) is None
    status = subprocess.run([EDUSTAT, "status"], env=province["env"], capture_output=True,
                            text=True, timeout=120)
    assert status.returncode == 0, status.stderr[-2000:]
    pipeline.read_and_stage(night)

    # Validation dies between the suite's findings and the year-over-year ones: all undone.
    assert run_killed(lambda: pipeline.validate(night),
                      KillPoint(history, "year_over_year")) == -9
    assert tonight("""SELECT * FROM ops.validation_results v JOIN ops.submissions s
                      USING (submission_id) WHERE s.run_id = {run}
                        AND v.stage = 'validate'""") == []
    pipeline.validate(night)

    # Deciding dies after its decisions committed, before any quarantine; then again after
    # moving the rejected file, before its report. Each rerun finishes what is left.
    rejected = here / a / "三报.csv"
    assert run_killed(lambda: pipeline.decide(night), KillPoint(landing_mod, "quarantine")) == -9
    assert tonight("SELECT status, report_path FROM ops.submissions WHERE run_id = {run}"
                   " AND status = 'rejected'") == [("rejected", None)]
    assert rejected.exists()
    assert run_killed(lambda: pipeline.decide(night),
                      KillPoint(rejection_report, "write_report")) == -9
    assert not rejected.exists()
    pipeline.decide(night)
    [(report, folder)] = tonight("SELECT report_path, quarantine_path FROM ops.submissions"
                                 " WHERE run_id = {run} AND status = 'rejected'")
    assert "不详" in Path(report).read_text(encoding="utf-8")
    assert [p.name for p in Path(folder).iterdir() if p.suffix == ".csv" and "三报" in p.name]

    # The closing step dies after claiming tonight's decisions, before its digest went out.
    sent = len(province["received"])
    assert run_killed(lambda: pipeline.finalize(night), KillPoint(notices_night, "send")) == -9
    assert len(province["received"]) == sent
    assert {r[0] for r in tonight("SELECT announced_run_id FROM ops.submissions"
                                  " WHERE decided_run_id = {run}")} == {"night-3"}


def _dbt_builds(home: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "build" in cmdline and any(str(home) in part for part in cmdline) and any(
                part.endswith("/dbt") for part in cmdline):
            found.append(process)
    return found


def test_the_task_killed_during_dbt_leaves_nothing_and_the_next_night_completes(
        province: dict) -> None:
    dsn, home = province["dsn"], province["home"]
    a, _, c, d = province["counties"]
    run = subprocess.Popen([EDUSTAT, "run"], env=province["env"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 900
        builds: list[psutil.Process] = []
        while not builds and time.monotonic() < deadline and run.poll() is None:
            builds = _dbt_builds(home)
            time.sleep(0.3)
        assert builds, "the night never started dbt"
        dbt = builds[0]
        task = dbt.parent()
        assert task is not None and "airflow" in " ".join(task.cmdline())
        time.sleep(2)  # dbt at work, connected
        task.kill()
        assert _gone([dbt.pid]), "dbt outlived its task"
        assert run.wait(120) != 0
    finally:
        if run.poll() is None:
            run.kill()
    assert _open_transactions(dsn) == 0 and pipeline.night_in_progress(dsn) is None
    assert fingerprint(dsn) == province["after_night_2"]  # nothing half-published

    _run(province)
    with psycopg.connect(dsn) as conn:
        undecided = conn.execute("SELECT count(*) FROM ops.submissions"
                                 " WHERE status = 'received'").fetchone()[0]
        running = conn.execute("SELECT count(*) FROM ops.runs WHERE status = 'running'"
                               ).fetchone()[0]
        unreported = conn.execute(
            "SELECT file_name FROM ops.submissions WHERE status = 'rejected'"
            " AND (report_path IS NULL OR quarantine_path IS NULL)").fetchall()
        unannounced = conn.execute(
            """SELECT s.file_name FROM ops.submissions s
               LEFT JOIN ops.runs r ON r.run_id = s.announced_run_id
               WHERE s.status IN ('accepted', 'rejected', 'held') AND r.digest_at IS NULL"""
        ).fetchall()
        files = dict(conn.execute("SELECT file_name, status FROM ops.submissions"
                                  " WHERE run_id = 'night-3'").fetchall())
        strays = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'marts_%%'").fetchall()
        reports = conn.execute("SELECT report_path FROM ops.submissions"
                               " WHERE status = 'rejected'").fetchall()
    assert (undecided, running, unreported, unannounced, strays) == (0, 0, [], [], [])
    assert all(Path(r).exists() for (r,) in reports)
    assert files == {"补报.csv": "accepted", "三报.csv": "rejected"}
    # Night 3's decisions, whose digest never went out, are in this night's.
    fields = _digest(province)
    assert {x["county_code"] for x in fields["rejected"]} == {a}
    assert {x["county_code"] for x in fields["accepted"]} == {c}
    with psycopg.connect(dsn) as conn:
        held = conn.execute("SELECT status FROM marts.submission_status"
                            " WHERE county_code = %s", (d,)).fetchone()
    assert held == ("held",)  # not retried on an unchanged project
    school, books = province["complete"]
    assert abs(_books(dsn, school) - books) < Decimal("1e-9")
    assert_cvs_match(dsn)
