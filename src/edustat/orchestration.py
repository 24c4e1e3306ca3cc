"""Running the real DAG through Airflow from the command line (`edustat run`, `demo`, UI).

Airflow's state lives under EDUSTAT_HOME/airflow (SQLite metadata for a single machine; the
docker/ deployment points the same settings at Postgres and Celery). `airflow dags test`
runs the DAG in-process, which is what a one-shot `edustat run` needs: no scheduler to start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edustat.config import REPO_ROOT, Settings

DAG_ID = "edustat_nightly"


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
        "EDUSTAT_HOME": str(settings.home),
        "EDUSTAT_WAREHOUSE_DSN": dsn,
        "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
    })
    return env


def _airflow() -> str:
    return str(Path(sys.executable).parent / "airflow")


def ensure_metadata_db(env: dict[str, str]) -> None:
    """`airflow db migrate` once per Airflow version (it takes tens of seconds)."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    from importlib.metadata import version

    marker = home / f".migrated-{version('apache-airflow-core')}"
    if marker.exists():
        return
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marker.write_text("ok\n")


@dataclass
class DagRunOutcome:
    logical_date: datetime
    returncode: int
    log_path: Path


def run_dag(settings: Settings, dsn: str, landing: Path | None = None,
            year: int | None = None, logical_date: datetime | None = None,
            echo: bool = False) -> DagRunOutcome:
    env = airflow_env(settings, dsn)
    ensure_metadata_db(env)
    when = (logical_date or datetime.now(UTC)).replace(microsecond=0)
    conf = {"landing": str(landing) if landing else None, "year": year}
    log_path = settings.airflow_home / "runs" / f"{when:%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [_airflow(), "dags", "test", DAG_ID, when.isoformat(), "-c", json.dumps(conf)]
    with log_path.open("w", encoding="utf-8") as log:
        if echo:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                sys.stdout.write(line)
            returncode = proc.wait()
        else:
            returncode = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        check=False).returncode
    return DagRunOutcome(when, returncode, log_path)


def standalone(settings: Settings, dsn: str, port: int = 8080) -> int:
    """The Airflow UI (api-server, scheduler, dag processor, triggerer) on the demo state."""
    env = airflow_env(settings, dsn)
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{port}/execution/"
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "True"
    ensure_metadata_db(env)
    return subprocess.call([_airflow(), "standalone"], env=env)
