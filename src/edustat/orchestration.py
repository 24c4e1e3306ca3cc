"""Running the real DAG through Airflow from the command line (`edustat run`, `demo`, UI).

Airflow's state lives under EDUSTAT_HOME/airflow (SQLite metadata for a single machine; the
docker/ deployment points the same settings at Postgres and Celery). `airflow dags test`
runs the DAG in-process, which is what a one-shot `edustat run` needs: no scheduler to start.

`dags test` prints every task's log to its console instead of Airflow's log folder, so the UI
would show "log file not found" for CLI and demo runs. `run_dag` reads that output line by
line and writes each task's lines to the file the UI reads for it (TaskLogWriter), keeps the
whole output in EDUSTAT_HOME/airflow/runs/, and prints the night's progress as it happens
(ProgressPrinter): step starts and ends, failures, and the wait for a retry.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from edustat import progress, schedule
from edustat.config import REPO_ROOT, Settings
from edustat.warehouse.embedded import write_secret

DAG_ID = schedule.DAG_ID
UI_USER = "admin"
UI_PASSWORDS = "airflow-ui-passwords.json"


def airflow_env(settings: Settings, dsn: str, base: dict[str, str] | None = None
                ) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    home = settings.airflow_home
    venv_bin = str(Path(sys.executable).parent)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env.get(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        # A login for the UI and the REST API (never all-admins), listening on localhost only.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{UI_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            settings.secrets_dir / UI_PASSWORDS),
        "AIRFLOW__API__HOST": env.get("AIRFLOW__API__HOST", "127.0.0.1"),
        "EDUSTAT_HOME": str(settings.home),
        "EDUSTAT_WAREHOUSE_DSN": dsn,
        "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
    })
    return env


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def ensure_metadata_db(env: dict[str, str], say: Callable[[str], None] | None = None) -> None:
    """`airflow db migrate` once per Airflow version (it takes tens of seconds)."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    from importlib.metadata import version

    marker = home / f".migrated-{version('apache-airflow-core')}"
    if marker.exists():
        return
    if say:
        say("准备 Airflow 元数据库（仅首次）preparing Airflow's metadata database "
            "(first time only)")
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marker.write_text("ok\n")


# -- Airflow's console output, parsed ---------------------------------------------------------

# `2026-12-01T20:01:28.019309Z [info     ] the event [logger.name] key=value ...`
_LINE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+Z?) \[(?P<level>\w+)\s*\] (?P<rest>.*)$")
_LOGGER = re.compile(r"^(?P<event>.*?)\s+\[(?P<logger>[\w.]+)\](?P<kv>(?: \S+=.*)?)$")
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\w+) map_index=(?P<map>-?\d+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\w+)")
_RUN_CREATED = re.compile(r"creating dag run\b.*\brun_id=(?P<run_id>\S+)")
_NEW_STATE = re.compile(r"new_state=(?P<state>\w+)")
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|"
                        r"NightInProgress|Warning)): ?(?P<message>.*)$")


@dataclass
class LogLine:
    raw: str
    timestamp: str | None = None
    level: str | None = None
    event: str = ""  # the message and Airflow's key=value details
    logger: str | None = None
    message: str = ""  # the message alone


    @classmethod
    def parse(cls, raw: str) -> LogLine:
        raw = raw.rstrip("\n")
        match = _LINE.match(raw)
        if not match:
            return cls(raw, event=raw, message=raw)
        rest = match["rest"]
        named = _LOGGER.match(rest)
        if named:
            event = named["event"] + named["kv"]
            return cls(raw, match["ts"], match["level"].lower(), event, named["logger"],
                       named["event"])
        return cls(raw, match["ts"], match["level"].lower(), rest, message=rest)

    def json(self) -> str:
        record = {"event": self.event}
        if self.timestamp:
            record["timestamp"] = self.timestamp
        if self.level:
            record["level"] = self.level
        if self.logger:
            record["logger"] = self.logger
        return json.dumps(record, ensure_ascii=False)


def task_log_path(base: Path, run_id: str, task_id: str, attempt: int,
                  map_index: int = -1) -> Path:
    """Where Airflow's file task handler keeps (and the UI reads) a task's log: Airflow 3's
    default [logging] log_filename_template."""
    mapped = f"map_index={map_index}/" if map_index >= 0 else ""
    return (base / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
            / f"{mapped}attempt={attempt}.log")


class TaskLogWriter:
    """Writes each task's lines of `airflow dags test` output to the task's log file, in
    Airflow's structured (JSON lines) format."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.run_id: str | None = None
        self.attempts: Counter[tuple[str, int]] = Counter()
        self.current: IO[str] | None = None
        self.written: list[Path] = []

    def feed(self, line: LogLine) -> None:
        created = _RUN_CREATED.search(line.event)
        if created and self.run_id is None:
            self.run_id = created["run_id"]
        start = _TASK_START.search(line.event)
        if start and self.run_id:
            self.close()
            key = (start["task"], int(start["map"]))
            self.attempts[key] += 1
            path = task_log_path(self.base, self.run_id, key[0], self.attempts[key], key[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            self.current = path.open("a", encoding="utf-8")
            self.written.append(path)
        if self.current is not None:
            self.current.write(line.json() + "\n")
            self.current.flush()
            if _TASK_END.search(line.event):
                self.close()

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


@dataclass
class ProgressPrinter:
    """What a person sees while `edustat run` waits: the steps, failures, retry waits."""

    say: Callable[[str], None]
    task: str | None = None
    error: str | None = None  # the last task error, one line
    night_in_progress: str | None = None
    waiting_since: float | None = None
    last_wait_note: float = 0.0
    _in_traceback: bool = False

    def feed(self, line: LogLine) -> None:
        start = _TASK_START.search(line.event)
        if start:
            self.task = start["task"]
            self.waiting_since = None
            return
        if line.logger == progress.LOGGER:
            self.say(line.message)
            return
        if line.timestamp is None:
            self._traceback_line(line.raw)
            return
        self._in_traceback = "Task failed with exception" in line.event
        state = _NEW_STATE.search(line.event)
        if state and state["state"] == "up_for_retry":
            self.waiting_since = time.monotonic()
            self.last_wait_note = self.waiting_since
            minutes = int(schedule.RETRY_DELAY.total_seconds() // 60)
            self.say(f"任务 {self.task} 失败，Airflow 将在 {minutes} 分钟后重试 / task {self.task}"
                     f" failed: Airflow retries it in {minutes} min, then the night goes on."
                     " Ctrl-C stops waiting (the run then fails).")
        elif state and state["state"] == "failed":
            self.say(f"任务 {self.task} 失败，不再重试 / task {self.task} failed, no retry left")
        elif "No tasks to run" in line.event and self.waiting_since is not None:
            now = time.monotonic()
            if now - self.last_wait_note >= 60:
                self.last_wait_note = now
                minutes = (now - self.waiting_since) / 60
                self.say(f"… 仍在等待重试 {self.task} still waiting to retry {self.task}"
                         f" ({minutes:.0f} min)")

    def _traceback_line(self, raw: str) -> None:
        if not self._in_traceback:
            return
        found = _EXCEPTION.match(raw.strip())
        if found:
            message = " ".join(found["message"].split())[:300]
            # The first error is the cause; later ones (finalize) only report it.
            self.error = self.error or f"{found['type'].rsplit('.', 1)[-1]}: {message}"
            if found["type"].endswith("NightInProgress"):
                self.night_in_progress = message


@dataclass
class DagRunOutcome:
    logical_date: datetime
    returncode: int
    log_path: Path
    run_id: str | None = None
    error: str | None = None  # the last task error, one line
    night_in_progress: str | None = None  # a second night was refused (edustat.pipeline)
    task_logs: list[Path] = field(default_factory=list)


def _reserve_log(runs: Path, when: datetime) -> tuple[datetime, IO[str]]:
    """A logical date and a log file no other run has: two runs started in the same second
    (or microsecond) each get their own, created exclusively."""
    runs.mkdir(parents=True, exist_ok=True)
    while True:
        path = runs / f"{when:%Y%m%dT%H%M%S.%fZ}.log"
        try:
            return when, path.open("x", encoding="utf-8")
        except FileExistsError:
            when += timedelta(microseconds=1)


def run_dag(settings: Settings, dsn: str, landing: Path | None = None,
            year: int | None = None, logical_date: datetime | None = None,
            echo: bool = False, say: Callable[[str], None] | None = None) -> DagRunOutcome:
    """Run the nightly DAG once through `airflow dags test`; `say` gets the progress lines
    (None: silent), `echo` streams Airflow's whole output."""
    say = say or (lambda _line: None)
    env = airflow_env(settings, dsn)
    ensure_metadata_db(env, say)
    when, log = _reserve_log(settings.airflow_home / "runs",
                             logical_date or datetime.now(UTC))
    conf = {"landing": str(landing) if landing else None, "year": year}
    cmd = [_airflow(), "dags", "test", DAG_ID, when.isoformat(), "-c", json.dumps(conf)]
    writer = TaskLogWriter(settings.airflow_home / "logs")
    printer = ProgressPrinter(say)
    with log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace", bufsize=1)
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                log.write(raw)
                line = LogLine.parse(raw)
                writer.feed(line)
                printer.feed(line)
                if echo:
                    sys.stdout.write(raw)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # Ctrl-C: stop Airflow too
                proc.terminate()
                proc.wait(timeout=30)
            writer.close()
    return DagRunOutcome(when, returncode, Path(log.name), writer.run_id, printer.error,
                         printer.night_in_progress, writer.written)


# -- the UI -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class UiLogin:
    user: str
    password: str
    file: Path
    new: bool  # generated just now: the only time it is shown


def ui_login(settings: Settings) -> UiLogin:
    """The UI's admin password: generated once, kept 0600 under EDUSTAT_HOME/secrets in the
    file Airflow's simple auth manager reads (so Airflow never prints it in its own log)."""
    path = settings.secrets_dir / UI_PASSWORDS
    if path.exists():
        passwords = json.loads(path.read_text(encoding="utf-8") or "{}")
        if passwords.get(UI_USER):
            path.chmod(0o600)
            return UiLogin(UI_USER, passwords[UI_USER], path, new=False)
    password = secrets.token_urlsafe(18)
    write_secret(path, json.dumps({UI_USER: password}) + "\n")
    return UiLogin(UI_USER, password, path, new=True)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def standalone(settings: Settings, dsn: str, port: int = 8080, host: str = "127.0.0.1",
               unpause: bool = False, say: Callable[[str], None] = print) -> int:
    """The Airflow UI and REST API (api-server, scheduler, dag processor, triggerer) on the
    platform's state, with a login, on `host` (localhost unless told otherwise)."""
    env = airflow_env(settings, dsn)
    env["AIRFLOW__API__HOST"] = host
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{port}/execution/"
    ensure_metadata_db(env, say)
    login = ui_login(settings)
    shown = "127.0.0.1" if host in ("127.0.0.1", "localhost") else host
    say(f"Airflow 界面 UI: http://{shown}:{port}  (REST API: http://{shown}:{port}/api/v2)")
    if login.new:
        say(f"登录 login: {login.user} / {login.password}   (仅显示这一次 shown only this once;"
            f" 保存在 kept in {login.file}, 0600)")
    else:
        say(f"登录 login: {login.user}; 密码见 password in {login.file} (0600)")
    if unpause:
        done = subprocess.run([_airflow(), "dags", "unpause", DAG_ID], env=env,
                              capture_output=True, text=True)
        say("每晚定时已开启 the nightly schedule is on (02:00 Asia/Shanghai)" if done.returncode
            == 0 else "尚无法开启定时（先运行一次 edustat run）could not unpause yet: run "
            "`edustat run` once first")
    else:
        say("每晚定时默认暂停 the nightly schedule is paused: switch on edustat_nightly in the UI,"
            " or start with `edustat airflow-ui --unpause`")
    return subprocess.call([_airflow(), "standalone"], env=env)
