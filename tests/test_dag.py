"""The DAG file: it imports without errors, cheaply, and wires the nightly steps in order.

Protects: a DAG that fails to parse (the scheduler silently drops it), a DAG file that drags
pandas/GX/dbt into every parse (slow scheduler loops), the step order of the night, one naming
for tasks and pipeline steps (ops.runs.steps_done), and what the UI shows an on-call engineer:
description, owner, tags, a runbook, a doc on every task.
Runs in a subprocess so Airflow's configuration points at a throwaway AIRFLOW_HOME.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
dag = bag.dags.get("edustat_nightly")
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "heavy": [m for m in ("pandas", "great_expectations", "dbt", "psycopg", "apprise",
                          "openpyxl", "python_calamine") if m in sys.modules],
    "tasks": {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks} if dag else None,
    "trigger_rules": {t.task_id: getattr(t.trigger_rule, "value", t.trigger_rule)
                      for t in dag.tasks} if dag else None,
    "cron": dag.timetable.expression if dag else None,
    "timezone": str(dag.timetable.timezone) if dag else None,
    "catchup": dag.catchup if dag else None,
    "max_active_runs": dag.max_active_runs if dag else None,
    "parse_seconds": elapsed,
    "description": dag.description if dag else None,
    "owners": sorted({t.owner for t in dag.tasks}) if dag else None,
    "tags": sorted(dag.tags) if dag else None,
    "doc_md": dag.doc_md if dag else None,
    "task_docs": {t.task_id: t.doc_md for t in dag.tasks} if dag else None,
}))
"""


def _probe(tmp_path: Path) -> dict:
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__CORE__UNIT_TEST_MODE="True")
    out = subprocess.run([sys.executable, "-c", PROBE, str(REPO / "dags")], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dag_imports_cheaply_and_wires_the_night(tmp_path: Path) -> None:
    probe = _probe(tmp_path)
    assert probe["errors"] == {}
    # Parsing must not import the heavy libraries: they load inside the tasks.
    assert probe["heavy"] == []
    assert probe["tasks"] == {
        "discover": ["read_and_stage"],
        "read_and_stage": ["validate"],
        "validate": ["decide"],
        "decide": ["build_marts"],
        "build_marts": ["build_reports"],
        "build_reports": ["finalize"],
        "finalize": [],
    }
    # The digest goes out even when a step failed.
    assert probe["trigger_rules"]["finalize"] == "all_done"
    assert probe["cron"] == "0 2 * * *"
    assert probe["timezone"] == "Asia/Shanghai"
    assert probe["catchup"] is False
    assert probe["max_active_runs"] == 1


def test_dag_tells_the_on_call_engineer_what_to_do(tmp_path: Path) -> None:
    from edustat import schedule
    from edustat.pipeline import STEPS

    probe = _probe(tmp_path)
    # One naming: the tasks are the pipeline's steps (and the closing finalize).
    assert tuple(probe["tasks"]) == schedule.TASKS == (*STEPS, "finalize")
    assert probe["description"] and "marts" in probe["description"]
    assert probe["owners"] == ["edustat-data-platform"]
    assert {"intake", "validation", "marts", "reports"} <= set(probe["tags"])
    runbook = probe["doc_md"]
    assert "runbook" in runbook and "edustat status --problems" in runbook
    for task_id, doc in probe["task_docs"].items():
        assert doc and "**Fails**" in doc, task_id
        assert f"`{task_id}`" in runbook, task_id
