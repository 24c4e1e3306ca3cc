"""The docker/ deployment without Docker: Airflow with CeleryExecutor started from the venv.

Same components as docker/docker-compose.yml — metadata in Postgres, Redis broker, API server,
scheduler, DAG processor, triggerer and Celery workers — as local processes, so the scale-out
path can be tested and benchmarked on a machine that has no Docker engine.

    with celery_topology() as topo:
        result = topo.run_dag({"landing": "/data/landing"}, timeout=600)

Everything it creates is its own: a fresh metadata database (and warehouse database unless one
is given), a Redis key prefix, free ports, a working directory. On exit it stops every process
group it started and drops what it created. A failure prints the tail of each component's log.

Test and bench tooling: it lives under tests/support, outside the product package.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from edustat import schedule
from edustat.config import REPO_ROOT
from edustat.task_routing import TASK_QUEUES_VAR, WORKER_NAME_VAR, format_task_queues

DAG_ID = schedule.DAG_ID
DEFAULT_SERVER_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# A db number of its own on the shared local Redis; the key prefix below isolates topologies
# that run at the same time (a test and a bench), so no worker takes another topology's task.
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/9"
MARTS_QUEUE = "marts"
# The marts steps (dbt, reports) go to their own queue: in production that is the worker pool
# with the memory; here it makes "both workers ran tasks" certain instead of luck.
DEFAULT_TASK_QUEUES: Mapping[str, str] = {"build_marts": MARTS_QUEUE,
                                          "build_reports": MARTS_QUEUE}
TERMINAL_RUN_STATES = ("success", "failed")
LOCAL_SETTINGS_FILE = REPO_ROOT / "docker" / "airflow_local_settings.py"


class TopologyError(RuntimeError):
    """A component did not come up or a run did not finish in time; logs are in the message."""


@dataclass(frozen=True)
class WorkerSpec:
    name: str  # Celery node name prefix and task_instance.hostname, e.g. "worker1"
    queues: tuple[str, ...] = ("default",)
    concurrency: int = 2


DEFAULT_WORKERS: tuple[WorkerSpec, ...] = (
    WorkerSpec("worker1", ("default",)),
    WorkerSpec("worker2", (MARTS_QUEUE,)),
)


@dataclass
class TaskRun:
    task_id: str
    state: str | None
    hostname: str | None
    queue: str | None
    try_number: int


@dataclass
class DagRunResult:
    run_id: str
    state: str
    seconds: float
    tasks: list[TaskRun]

    def hosts(self) -> set[str]:
        return {t.hostname for t in self.tasks if t.hostname}


@dataclass
class Topology:
    workdir: Path
    env: dict[str, str]
    metadata_dsn: str  # libpq URI of the Airflow metadata database
    warehouse_dsn: str
    api_url: str
    workers: tuple[WorkerSpec, ...]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def edustat_home(self) -> Path:
        return Path(self.env["EDUSTAT_HOME"])

    # -- commands and queries ------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run an `airflow` CLI command against this topology; non-zero exit raises."""
        proc = subprocess.run([_bin("airflow"), *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise TopologyError(f"airflow {' '.join(args)} exited {proc.returncode}:\n"
                                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.metadata_dsn) as conn:
            return conn.execute(sql, params).fetchall()

    def log_tails(self, lines: int = 40) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            parts.append(f"==== {path} (last {lines} lines) ====\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    # -- a DAG run ---------------------------------------------------------------------------

    def wait_for_dag(self, dag_id: str = DAG_ID, timeout: float = 180) -> None:
        """Until the DAG processor has serialized the DAG; an import error fails at once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            errors = self.query("SELECT filename, stacktrace FROM import_error")
            if errors:
                raise TopologyError(f"DAG import errors: {errors}")
            if self.query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", (dag_id,)):
                return
            time.sleep(2)
        raise TopologyError(f"{dag_id} not parsed within {timeout:.0f} s")

    def trigger(self, conf: Mapping[str, Any], dag_id: str = DAG_ID,
                run_id: str | None = None) -> str:
        """Unpause and trigger; the run gets a logical date, as a scheduled run has."""
        run_id = run_id or f"celery__{uuid.uuid4().hex[:12]}"
        self.wait_for_dag(dag_id)
        self.airflow("dags", "unpause", dag_id)
        logical_date = datetime.now(UTC).isoformat()
        self.airflow("dags", "trigger", dag_id, "--run-id", run_id, "-c", json.dumps(conf),
                     "--logical-date", logical_date, "--no-replace-microseconds")
        return run_id

    def wait_for_run(self, run_id: str, dag_id: str = DAG_ID, timeout: float = 600,
                     fail_fast: bool = True) -> DagRunResult:
        """Until the run ends. fail_fast: a task that fails or waits for a retry ends the wait
        with its error (the DAG's retry delay is minutes; a test should not sit through it)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            self._check_alive()
            rows = self.query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s",
                              (dag_id, run_id))
            if rows and rows[0][0] in TERMINAL_RUN_STATES:
                return DagRunResult(run_id, rows[0][0], time.monotonic() - started,
                                    self.task_runs(run_id, dag_id))
            if fail_fast:
                broken = [t for t in self.task_runs(run_id, dag_id)
                          if t.state in ("failed", "up_for_retry")]
                if broken:
                    raise TopologyError("task failed: " + "\n".join(
                        f"{t.task_id} on {t.hostname}: {self.task_errors(run_id, t, dag_id)}"
                        for t in broken))
            time.sleep(2)
        raise TopologyError(f"run {run_id} not finished within {timeout:.0f} s: "
                            f"{self.task_runs(run_id, dag_id)}")

    def run_dag(self, conf: Mapping[str, Any], dag_id: str = DAG_ID, timeout: float = 600,
                fail_fast: bool = True) -> DagRunResult:
        return self.wait_for_run(self.trigger(conf, dag_id), dag_id, timeout, fail_fast)

    def task_log(self, run_id: str, task: TaskRun, dag_id: str = DAG_ID) -> Path:
        return (Path(self.env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]) / f"dag_id={dag_id}"
                / f"run_id={run_id}" / f"task_id={task.task_id}"
                / f"attempt={max(task.try_number, 1)}.log")

    def task_errors(self, run_id: str, task: TaskRun, dag_id: str = DAG_ID) -> str:
        """The error events of a task attempt's (JSON lines) log, with exception values."""
        path = self.task_log(run_id, task, dag_id)
        if not path.exists():
            return f"(no log at {path})"
        found = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("level") in ("error", "critical"):
                details = [f"{d.get('exc_type')}: {d.get('exc_value')}"
                           for d in event.get("error_detail") or []]
                found.append(" | ".join([str(event.get("event")), *details]))
        return "\n".join(found[-5:]) or f"(no error event in {path})"

    def task_runs(self, run_id: str, dag_id: str = DAG_ID) -> list[TaskRun]:
        rows = self.query(
            """SELECT task_id, state, hostname, queue, try_number FROM task_instance
               WHERE dag_id = %s AND run_id = %s ORDER BY start_date NULLS LAST, task_id""",
            (dag_id, run_id))
        return [TaskRun(*row) for row in rows]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, name: str, args: Sequence[str], extra_env: Mapping[str, str] | None = None
              ) -> None:
        env = {**self.env, **(extra_env or {})}
        log = (self.logs / f"{name}.log").open("ab")
        # A session of its own: stopping the component stops its whole process group.
        self.processes[name] = subprocess.Popen([_bin("airflow"), *args], env=env, stdout=log,
                                                stderr=subprocess.STDOUT,
                                                start_new_session=True)
        log.close()

    def _check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise TopologyError(f"components exited: {dead}")

    def wait_healthy(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        pending = {"api-server", "scheduler", "dag_processor", "triggerer",
                   *(w.name for w in self.workers)}
        while pending and time.monotonic() < deadline:
            self._check_alive()
            health = _get_json(f"{self.api_url}/api/v2/monitor/health")
            if health is not None:
                pending.discard("api-server")
                for component in ("scheduler", "dag_processor", "triggerer"):
                    status = (health.get(component) or {}).get("status")
                    if status == "healthy":
                        pending.discard(component)
            if pending & {w.name for w in self.workers}:
                pending -= self._answering_workers()
            if pending:
                time.sleep(2)
        if pending:
            raise TopologyError(f"not healthy within {timeout:.0f} s: {sorted(pending)}")

    def _answering_workers(self) -> set[str]:
        """Worker name prefixes whose Celery node answers a ping on this topology's broker."""
        proc = subprocess.run(
            [_bin("celery"), "--app", "airflow.providers.celery.executors.celery_executor.app",
             "inspect", "ping", "--timeout", "3"],
            env=self.env, capture_output=True, text=True, timeout=90, check=False)
        answered = set()
        for line in proc.stdout.splitlines():
            line = line.strip()
            if line.startswith("->") and ": OK" in line:
                answered.add(line[2:].strip().split("@", 1)[0])
        return answered

    def stop(self, grace: float = 20) -> None:
        """SIGTERM every component's process group (and strays), then SIGKILL what is left."""
        import psutil

        family: list[psutil.Process] = []
        for proc in self.processes.values():
            with suppress(psutil.Error):
                parent = psutil.Process(proc.pid)
                family += [parent, *parent.children(recursive=True)]
        for proc in self.processes.values():
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(family, timeout=grace)
        for proc in self.processes.values():
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        for stray in alive:
            with suppress(psutil.Error):
                stray.kill()
        for proc in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_scheme(dsn: str, scheme: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(scheme=scheme))


def _clean_env() -> dict[str, str]:
    """The caller's environment without Airflow or edustat settings that would leak in."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "EDUSTAT_", "_AIRFLOW"))}


def _delete_redis_keys(broker_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(broker_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _create_database(server_dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(server_dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def topology_env(*, workdir: Path, metadata_dsn: str, warehouse_dsn: str, broker_url: str,
                 key_prefix: str, api_port: int, task_queues: Mapping[str, str],
                 extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every component shares (what docker/.env.example sets in containers)."""
    from cryptography.fernet import Fernet

    from edustat.config import load_settings
    from edustat.orchestration import airflow_env

    home = workdir / "edustat_home"
    base = {**_clean_env(), **(extra_env or {}), "EDUSTAT_HOME": str(home),
            "EDUSTAT_WAREHOUSE_DSN": warehouse_dsn}
    env = airflow_env(load_settings(base), warehouse_dsn, base=base)
    psycopg2_url = _with_scheme(metadata_dsn, "postgresql+psycopg2")
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": psycopg2_url,
        # Seven components share one Postgres with other users: small pools.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "4",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": key_prefix,
        # Longer than the longest nightly task; an unacked task is redelivered after this.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + psycopg2_url,
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "edustat.task_routing.worker_hostname",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # Runs start when the caller triggers them, never from the cron schedule.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        TASK_QUEUES_VAR: format_task_queues(dict(task_queues)),
    })
    return env


@contextmanager
def celery_topology(*, server_dsn: str = DEFAULT_SERVER_DSN,
                    warehouse_dsn: str | None = None,
                    broker_url: str = DEFAULT_BROKER_URL,
                    workers: Sequence[WorkerSpec] = DEFAULT_WORKERS,
                    task_queues: Mapping[str, str] = DEFAULT_TASK_QUEUES,
                    workdir: Path | None = None,
                    extra_env: Mapping[str, str] | None = None,
                    startup_timeout: float = 300) -> Iterator[Topology]:
    """Start the Celery topology; yield it healthy; stop it and drop what it created.

    server_dsn: a Postgres server where databases may be created (metadata, and the warehouse
    unless warehouse_dsn is given). workdir: where AIRFLOW_HOME, EDUSTAT_HOME and the logs go
    (default: a temp dir, removed on success, kept on failure for its logs).
    """
    from edustat.warehouse.connection import with_database

    token = uuid.uuid4().hex[:10]
    own_workdir = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="edustat-celery-")) if workdir is None else workdir
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    key_prefix = f"edustat-{token}:"
    topo: Topology | None = None
    failed = False
    try:
        metadata_db = f"edustat_airflow_{token}"
        _create_database(server_dsn, metadata_db)
        created.append(metadata_db)
        if warehouse_dsn is None:
            _create_database(server_dsn, f"edustat_wh_{token}")
            created.append(f"edustat_wh_{token}")
            warehouse_dsn = with_database(server_dsn, f"edustat_wh_{token}")
        metadata_dsn = with_database(server_dsn, metadata_db)
        api_port = free_port()
        env = topology_env(workdir=workdir, metadata_dsn=metadata_dsn,
                           warehouse_dsn=warehouse_dsn, broker_url=broker_url,
                           key_prefix=key_prefix, api_port=api_port, task_queues=task_queues,
                           extra_env=extra_env)
        config_dir = Path(env["AIRFLOW_HOME"]) / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        # The image's cluster policy file, so queues are routed exactly as in docker/.
        shutil.copyfile(LOCAL_SETTINGS_FILE, config_dir / "airflow_local_settings.py")
        topo = Topology(workdir, env, metadata_dsn, warehouse_dsn,
                        f"http://127.0.0.1:{api_port}", tuple(workers))
        with (topo.logs / "db-migrate.log").open("w") as log:
            subprocess.run([_bin("airflow"), "db", "migrate"], env=env, stdout=log,
                           stderr=subprocess.STDOUT, timeout=startup_timeout, check=True)
        topo.start("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(api_port),
                                  "--workers", "1"])
        topo.start("scheduler", ["scheduler"])
        topo.start("dag-processor", ["dag-processor"])
        topo.start("triggerer", ["triggerer"])
        for spec in topo.workers:
            topo.start(spec.name,
                       ["celery", "worker", "--celery-hostname", f"{spec.name}@%h",
                        "--concurrency", str(spec.concurrency), "--queues", ",".join(spec.queues)],
                       # Each worker serves its task logs on a port of its own.
                       {WORKER_NAME_VAR: spec.name,
                        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())})
        topo.wait_healthy(timeout=startup_timeout)
        yield topo
    except BaseException:
        failed = True
        if topo is not None:
            sys.stderr.write(f"celery topology failed; logs in {topo.logs}\n{topo.log_tails()}\n")
        raise
    finally:
        if topo is not None:
            topo.stop()
        with suppress(Exception):
            _delete_redis_keys(broker_url, key_prefix)
        for name in created:
            with suppress(Exception):
                _drop_database(server_dsn, name)
        if own_workdir and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
