"""`edustat run` as an operator watches it, and the Airflow UI/API afterwards.

Protects: a run that prints nothing until it ends; task logs of CLI runs missing from
Airflow's log store ("Log file not found"); a night with a rejected county that does not say
so at a glance (run note, note on `decide`); an Airflow UI/REST API that answers anonymous
calls, listens beyond 127.0.0.1, or whose generated password is readable by others or shown
more than once; two runs started together sharing a logical date or a log file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edustat import schedule
from edustat.orchestration import LogLine, TaskLogWriter, _reserve_log, task_log_path
from edustat_synth.generate import generate
from support.databases import fresh_database
from support.rest import free_port, request_json

pytestmark = pytest.mark.e2e

EDUSTAT = str(Path(sys.executable).parent / "edustat")


def _env(home: Path, dsn: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EDUSTAT_", "AIRFLOW"))}
    return {**env, "EDUSTAT_HOME": str(home), "EDUSTAT_WAREHOUSE_DSN": dsn}


@pytest.fixture(scope="module")
def night(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("clirun") / "home"
    generate("63", [2025], home / "landing", seed=5, faulty=1, counties=2)
    with fresh_database(pg_server, "edustat_clirun") as dsn:
        env = _env(home, dsn)
        proc = subprocess.Popen([EDUSTAT, "run"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        started = time.monotonic()
        lines: list[tuple[float, str]] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
        code = proc.wait(timeout=900)
        yield {"home": home, "env": env, "dsn": dsn, "lines": lines, "code": code,
               "ended": time.monotonic() - started}


def test_run_prints_each_step_while_it_runs(night: dict) -> None:
    text = "\n".join(line for _, line in night["lines"])
    assert night["code"] == 0, text[-3000:]
    at = {}
    for seconds, line in night["lines"]:
        for step in schedule.TASKS[:-1]:
            for word in ("开始 started", "完成 done"):
                if f" {step} {word}" in line:
                    at.setdefault((step, word), (seconds, line))
    assert set(at) == {(s, w) for s in schedule.TASKS[:-1] for w in ("开始 started", "完成 done")}
    # Read from the pipe well before the run ended: printed while it ran, not at the end.
    assert at[("discover", "完成 done")][0] < night["ended"] - 10
    assert at[("discover", "完成 done")][0] < at[("build_marts", "完成 done")][0]
    discover = at[("discover", "完成 done")][1]
    assert "files_seen 2" in discover and "s):" in discover
    assert "accepted 1, rejected 1" in at[("decide", "完成 done")][1]
    # Then the summary, with the rejected county.
    assert "退回 rejected 1" in text and "成功 success" in text


@pytest.fixture(scope="module")
def ui(night: dict) -> Iterator[dict]:
    port = free_port()
    proc = subprocess.Popen([EDUSTAT, "airflow-ui", "--port", str(port)], env=night["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1, start_new_session=True)
    try:
        assert proc.stdout is not None
        head = [proc.stdout.readline() for _ in range(4)]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                request_json(f"{url}/api/v2/version")
                break
            except OSError:
                assert proc.poll() is None, "edustat airflow-ui exited"
                time.sleep(2)
        yield {"url": url, "port": port, "head": head}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _login(night: dict, ui: dict) -> str:
    passwords = json.loads((night["home"] / "secrets" / "airflow-ui-passwords.json").read_text())
    code, body = request_json(f"{ui['url']}/auth/token",
                          {"username": "admin", "password": passwords["admin"]})
    assert code == 201, code
    return body["access_token"]


def test_the_ui_has_a_login_on_localhost_only(night: dict, ui: dict) -> None:
    head = "".join(ui["head"])
    password_file = night["home"] / "secrets" / "airflow-ui-passwords.json"
    password = json.loads(password_file.read_text())["admin"]
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert f"http://127.0.0.1:{ui['port']}" in head
    assert password in head and "shown only this once" in head
    assert "paused" in head  # and how to switch the schedule on
    assert request_json(f"{ui['url']}/api/v2/dags")[0] == 401
    assert request_json(f"{ui['url']}/auth/token",
                    {"username": "admin", "password": "not-it"})[0] == 401
    token = _login(night, ui)
    code, dags = request_json(f"{ui['url']}/api/v2/dags", token=token)
    assert code == 200 and [d["dag_id"] for d in dags["dags"]] == [schedule.DAG_ID]
    # Listening on 127.0.0.1 only: another local address of this machine gets nothing.
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.2", ui["port"])) != 0


def test_every_task_log_and_the_note_are_in_airflow(night: dict, ui: dict) -> None:
    token = _login(night, ui)
    base = f"{ui['url']}/api/v2/dags/{schedule.DAG_ID}/dagRuns"
    code, runs = request_json(base, token=token)
    assert code == 200 and len(runs["dag_runs"]) == 1
    run = runs["dag_runs"][0]
    assert run["state"] == "success"
    assert "rejected 1" in (run.get("note") or "")
    run_url = f"{base}/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    code, tis = request_json(f"{run_url}/taskInstances", token=token)
    assert code == 200
    assert sorted(t["task_id"] for t in tis["task_instances"]) == sorted(schedule.TASKS)
    decide = next(t for t in tis["task_instances"] if t["task_id"] == "decide")
    assert "rejected 1" in (decide.get("note") or "")
    for ti in tis["task_instances"]:
        logs_url = f"{run_url}/taskInstances/{ti['task_id']}/logs/{ti['try_number']}"
        assert request_json(logs_url)[0] == 401
        code, log = request_json(logs_url, token=token)
        assert code == 200, ti["task_id"]
        events = [entry.get("event", "") for entry in log["content"]
                  if isinstance(entry, dict)]
        assert len(events) > 3, (ti["task_id"], events)
        assert not any("not found" in e.lower() for e in events[:3]), events[:3]
        if ti["task_id"] != "finalize":
            assert any(f"{ti['task_id']} 完成 done" in e for e in events), ti["task_id"]


def test_runs_started_together_get_their_own_date_and_log(tmp_path: Path) -> None:
    when = datetime(2026, 3, 1, 2, 0, 0, 123456, tzinfo=UTC)
    first, log1 = _reserve_log(tmp_path, when)
    second, log2 = _reserve_log(tmp_path, when)
    with log1, log2:
        assert first != second and log1.name != log2.name
    assert len(list(tmp_path.iterdir())) == 2


def test_task_lines_go_to_the_task_that_printed_them(tmp_path: Path) -> None:
    writer = TaskLogWriter(tmp_path)
    run_id = "manual__2026-03-01T02:00:00+00:00"
    stream = [
        f"2026-03-01T02:00:00.1Z [info     ] creating dag run [x] run_id={run_id}",
        "2026-03-01T02:00:01.1Z [info     ] [DAG TEST] starting task_id=discover map_index=-1 "
        "[airflow.sdk.definitions.dag] loc=dag.py:1",
        "2026-03-01T02:00:02.1Z [info     ] discover 完成 done (0.1 s): files_seen 2 "
        "[edustat.progress] loc=progress.py:1",
        "2026-03-01T02:00:03.1Z [info     ] [DAG TEST] end task task_id=discover map_index=-1 "
        "[airflow.sdk.definitions.dag] loc=dag.py:2",
        "2026-03-01T02:00:04.1Z [info     ] [DAG TEST] starting task_id=discover map_index=-1 "
        "[airflow.sdk.definitions.dag] loc=dag.py:1",
        "Traceback (most recent call last):",
        "2026-03-01T02:00:05.1Z [info     ] [DAG TEST] end task task_id=discover map_index=-1 "
        "[airflow.sdk.definitions.dag] loc=dag.py:2",
    ]
    for raw in stream:
        writer.feed(LogLine.parse(raw))
    first = task_log_path(tmp_path, run_id, "discover", 1).read_text().splitlines()
    second = task_log_path(tmp_path, run_id, "discover", 2).read_text().splitlines()
    assert len(first) == 3 and len(second) == 3
    record = json.loads(first[1])
    assert record["event"].startswith("discover 完成 done") and record["level"] == "info"
    assert record["logger"] == "edustat.progress" and record["timestamp"].startswith("2026")
    assert json.loads(second[1]) == {"event": "Traceback (most recent call last):"}


def test_a_retry_wait_is_announced_and_kept_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    import edustat.orchestration as orchestration

    now = [1000.0]
    monkeypatch.setattr(orchestration.time, "monotonic", lambda: now[0])
    said: list[str] = []
    printer = orchestration.ProgressPrinter(said.append)
    stream = [
        "2026-03-01T02:00:01.1Z [info     ] [DAG TEST] starting task_id=build_marts map_index=-1 "
        "[airflow.sdk.definitions.dag] loc=dag.py:1",
        "2026-03-01T02:00:02.1Z [error    ] Task failed with exception [task] loc=x.py:1",
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "psycopg.OperationalError: connection failed: server closed the connection",
        "2026-03-01T02:00:03.1Z [info     ] Task instance state updated [airflow.api] "
        "new_state=up_for_retry rows_affected=1",
    ]
    for raw in stream:
        printer.feed(LogLine.parse(raw))
    assert printer.error == "OperationalError: connection failed: server closed the connection"
    assert len(said) == 1 and "build_marts" in said[0] and "5 min" in said[0]
    waiting = ("2026-03-01T02:00:04.1Z [warning  ] No tasks to run. unrunnable tasks: {x} "
               "[airflow.sdk.definitions.dag] loc=dag.py:3")
    for step in range(1, 200):  # one Airflow line a second for 3 minutes and more
        now[0] = 1000.0 + step
        printer.feed(LogLine.parse(waiting))
    notes = [line for line in said if "still waiting" in line]
    assert len(notes) == 3 and notes[0].endswith("(1 min)")


def test_a_refused_second_night_is_one_line() -> None:
    from edustat.orchestration import ProgressPrinter

    printer = ProgressPrinter(lambda _line: None)
    for raw in ["2026-03-01T02:00:02.1Z [error    ] Task failed with exception [task] x=1",
                "Traceback (most recent call last):",
                "edustat.pipeline.NightInProgress: run manual__x has held the night lock since"
                " 02:00 (pid 42)"]:
        printer.feed(LogLine.parse(raw))
    assert printer.night_in_progress == "run manual__x has held the night lock since 02:00 " \
                                        "(pid 42)"


def test_the_ui_password_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    from edustat.config import load_settings
    from edustat.orchestration import airflow_env, ui_login

    settings = load_settings({"EDUSTAT_HOME": str(tmp_path)})
    first, second = ui_login(settings), ui_login(settings)
    assert first.new and not second.new and first.password == second.password
    assert len(first.password) >= 20
    assert stat.S_IMODE(first.file.stat().st_mode) == 0o600
    env = airflow_env(settings, "postgresql://x@127.0.0.1/x", base={})
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(first.file)
