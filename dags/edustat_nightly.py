"""edustat_nightly: county files -> raw -> GX validation -> accept/reject -> dbt -> reports.

Wiring only: every task calls one function of edustat.pipeline (imported inside the task so
parsing this file costs milliseconds: no pandas, GX or dbt at import). The task count is fixed:
the number of counties only changes how much each task does.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from edustat.alerts import task_failure_callback


def _ctx():
    from edustat.pipeline import RunContext

    context = get_current_context()
    params = context["params"]
    # Airflow 3 runs triggered from the UI or API have no logical date: run_after stands in.
    return RunContext(
        run_id=context["run_id"],
        logical_date=context.get("logical_date") or context["dag_run"].run_after,
        landing=Path(params["landing"]) if params.get("landing") else None,
        year=params.get("year") or None,
    )


@dag(
    dag_id="edustat_nightly",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=5),
                  "on_failure_callback": task_failure_callback},
    params={
        "landing": Param(None, type=["null", "string"],
                         description="landing folder (default: EDUSTAT_HOME/landing)"),
        "year": Param(None, type=["null", "integer"],
                      description="school year to rebuild reports for (default: all)"),
    },
    tags=["edustat"],
    doc_md=__doc__,
)
def edustat_nightly() -> None:
    @task
    def discover() -> dict:
        from edustat.pipeline import discover as run

        return run(_ctx())

    @task
    def read_and_stage() -> dict:
        from edustat.pipeline import read_and_stage as run

        return run(_ctx())

    @task
    def validate() -> dict:
        from edustat.pipeline import validate as run

        return run(_ctx())

    @task
    def decide() -> dict:
        from edustat.pipeline import decide as run

        return run(_ctx())

    @task
    def dbt_build() -> dict:
        from edustat.pipeline import build_marts as run

        return run(_ctx())

    @task
    def reports() -> dict:
        from edustat.pipeline import build_reports as run

        return run(_ctx())

    @task(trigger_rule="all_done", retries=0)
    def alert_summary() -> dict:
        from edustat.pipeline import finalize

        outcome = finalize(_ctx())
        if outcome["failed_steps"]:
            # The digest is out; now make the run itself fail so `edustat run` exits non-zero.
            raise RuntimeError(f"nightly run incomplete: {', '.join(outcome['failed_steps'])}")
        return outcome

    (discover() >> read_and_stage() >> validate() >> decide() >> dbt_build() >> reports()
     >> alert_summary())


edustat_nightly()
