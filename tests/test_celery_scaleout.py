"""Scale-out: the nightly DAG on Airflow's CeleryExecutor with two workers equals the local run.

Protects the docker/ deployment's execution path on a machine without Docker: the same
topology (Postgres metadata, Redis broker, API server, scheduler, DAG processor, triggerer,
two Celery workers) started from the venv by tests/support/celery_topology.py. The e2e test asserts
that a generated province's night succeeds task by task, that the tasks ran on both workers
(the marts steps are routed to a queue only worker2 serves, so this is certain, not luck), and
that every marts table equals, row for row, the marts of the same landing run through
`edustat run` (in-process `airflow dags test`). The other tests protect the routing policy the
deployment relies on: Airflow applies it when it parses the real DAG file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from edustat import schedule
from edustat.task_routing import format_task_queues, parse_task_queues, worker_hostname
from support.celery_topology import (
    DEFAULT_TASK_QUEUES,
    DEFAULT_WORKERS,
    LOCAL_SETTINGS_FILE,
    MARTS_QUEUE,
    celery_topology,
)

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
NIGHTLY_TASKS = schedule.TASKS


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EDUSTAT_"))}
    env.update(extra)
    return env


# -- the routing policy -----------------------------------------------------------------------

def test_task_queue_spec_round_trips_and_rejects_garbage() -> None:
    routes = parse_task_queues("build_marts=marts, build_reports=marts")
    assert routes == {"build_marts": "marts", "build_reports": "marts"}
    assert parse_task_queues(format_task_queues(routes)) == routes
    assert parse_task_queues("") == {}
    with pytest.raises(ValueError, match="task_id=queue"):
        parse_task_queues("build_marts")


def test_worker_hostname_names_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDUSTAT_WORKER_NAME", "worker7")
    assert worker_hostname() == "worker7"
    monkeypatch.delenv("EDUSTAT_WORKER_NAME")
    import socket

    assert worker_hostname() == socket.getfqdn()


PARSE_QUEUES = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags["edustat_nightly"]
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                  "queues": {t.task_id: t.queue for t in dag.tasks}}))
"""


def _parsed_queues(tmp_path: Path, task_queues: str | None) -> dict[str, Any]:
    home = tmp_path / "airflow"
    (home / "config").mkdir(parents=True)
    # The image's file, installed where Airflow looks for it ($AIRFLOW_HOME/config).
    shutil.copyfile(LOCAL_SETTINGS_FILE, home / "config" / "airflow_local_settings.py")
    env = _clean_env(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False",
                     AIRFLOW__CORE__UNIT_TEST_MODE="True")
    if task_queues is not None:
        env["EDUSTAT_TASK_QUEUES"] = task_queues
    proc = subprocess.run([sys.executable, "-c", PARSE_QUEUES, str(REPO / "dags")], env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_policy_routes_the_marts_steps_when_airflow_parses_the_dag(tmp_path: Path) -> None:
    routed = _parsed_queues(tmp_path / "routed", format_task_queues(dict(DEFAULT_TASK_QUEUES)))
    assert routed["errors"] == {}
    assert routed["queues"] == {
        "discover": "default", "read_and_stage": "default", "validate": "default",
        "decide": "default", "build_marts": MARTS_QUEUE, "build_reports": MARTS_QUEUE,
        "finalize": "default",
    }
    plain = _parsed_queues(tmp_path / "plain", None)
    assert set(plain["queues"].values()) == {"default"}


# -- the scale-out run ------------------------------------------------------------------------

def _marts(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every marts relation as sorted rows. Timestamp columns hold when this warehouse received
    the files, which differs between two runs by construction: they are compared as present or
    NULL, everything else by value."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(dsn) as conn:
        relations = [r[0] for r in conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'marts' AND c.relkind IN ('r', 'v', 'm', 'p')
               ORDER BY 1""")]
        for relation in relations:
            columns = conn.execute(
                """SELECT column_name, data_type FROM information_schema.columns
                   WHERE table_schema = 'marts' AND table_name = %s ORDER BY ordinal_position""",
                (relation,)).fetchall()
            select = ", ".join(
                f'("{name}" IS NULL) AS "{name}"' if kind.startswith("timestamp")
                else f'"{name}"::text' for name, kind in columns)
            rows = conn.execute(f'SELECT {select} FROM marts."{relation}"').fetchall()
            header = tuple(name for name, _ in columns)
            snapshot[relation] = [header, *sorted(rows, key=repr)]
    return snapshot


def _generate(out: Path) -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "edustat"), "generate", "--province", "63", "--years", "2024-2025",
         "--out", str(out), "--seed", "7", "--faulty", "1", "--counties", "6"],
        env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert any(out.rglob("*.xlsx")) or any(out.rglob("*.csv"))


@pytest.mark.e2e
def test_nightly_dag_scales_out_over_two_celery_workers(tmp_path: Path, pg_server: str,
                                                       empty_db: str) -> None:
    generated = tmp_path / "generated"
    _generate(generated)
    submitted = sum(1 for path in generated.rglob("*") if path.is_file())
    local_home = tmp_path / "local_home"

    with celery_topology(server_dsn=pg_server, workdir=tmp_path / "celery") as topo:
        assert [w.queues for w in topo.workers] == [w.queues for w in DEFAULT_WORKERS]
        # Both runs take the files where the scheduled night finds them, EDUSTAT_HOME/landing
        # (the landing volume in docker/), each from its own copy: rejected files move out.
        shutil.copytree(generated, topo.edustat_home / "landing")
        shutil.copytree(generated, local_home / "landing")
        # The LocalExecutor path runs meanwhile: its own home and warehouse.
        local_log = (tmp_path / "edustat_run.log").open("w")
        local = subprocess.Popen(
            [str(VENV_BIN / "edustat"), "run"],
            env=_clean_env(EDUSTAT_HOME=str(local_home), EDUSTAT_WAREHOUSE_DSN=empty_db),
            stdout=local_log, stderr=subprocess.STDOUT)
        try:
            result = topo.run_dag({}, timeout=480)
            celery_marts = _marts(topo.warehouse_dsn)
            with psycopg.connect(topo.warehouse_dsn) as conn:
                statuses = dict(conn.execute(
                    "SELECT status, count(*) FROM ops.submissions GROUP BY status").fetchall())
            local_returncode = local.wait(timeout=600)
        except BaseException:
            local.kill()
            local.wait()
            raise
        finally:
            local_log.close()

    by_task = {t.task_id: t for t in result.tasks}
    assert set(by_task) == set(NIGHTLY_TASKS)
    assert result.state == "success", [(t.task_id, t.state) for t in result.tasks]
    assert {t.task_id: t.state for t in result.tasks} == dict.fromkeys(NIGHTLY_TASKS, "success")
    # Both workers ran tasks: the default queue is worker1's, the marts queue worker2's.
    assert result.hosts() == {"worker1", "worker2"}
    for task_id, task in by_task.items():
        expected_queue = DEFAULT_TASK_QUEUES.get(task_id, "default")
        assert task.queue == expected_queue, task
        assert task.hostname == ("worker2" if expected_queue == MARTS_QUEUE else "worker1"), task
    # --faulty 1: exactly one county file is broken and must be rejected; the rest accepted.
    assert statuses == {"accepted": submitted - 1, "rejected": 1}

    run_log = (tmp_path / "edustat_run.log").read_text(encoding="utf-8", errors="replace")
    assert local_returncode == 0, run_log[-4000:]
    local_marts = _marts(empty_db)

    assert set(celery_marts) == set(local_marts)
    for required in ("school_indicators", "county_indicator_cv", "county_multimedia_coverage",
                     "county_broadband", "county_teacher_ratios", "submission_status"):
        assert len(celery_marts[required]) > 1, f"marts.{required} is empty"
    for relation in sorted(celery_marts):
        assert celery_marts[relation] == local_marts[relation], f"marts.{relation} differs"
