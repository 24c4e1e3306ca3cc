"""The DAG file: it imports without errors, cheaply, and wires the nightly steps in order.

Protects: a DAG that fails to parse (the scheduler silently drops it), a DAG file that drags
pandas/GX/dbt into every parse (slow scheduler loops), and the step order of the night.
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
        "decide": ["dbt_build"],
        "dbt_build": ["reports"],
        "reports": ["alert_summary"],
        "alert_summary": [],
    }
    # The digest goes out even when a step failed.
    assert probe["trigger_rules"]["alert_summary"] == "all_done"
    assert probe["cron"] == "0 2 * * *"
    assert probe["timezone"] == "Asia/Shanghai"
    assert probe["catchup"] is False
    assert probe["max_active_runs"] == 1
