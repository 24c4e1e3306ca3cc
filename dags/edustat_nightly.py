"""edustat_nightly: county files -> raw -> GX validation -> accept/reject -> dbt -> reports.

Wiring only: every task calls the edustat.pipeline function of the same name (imported inside
the task so parsing this file costs milliseconds: no pandas, GX or dbt at import). The task
count is fixed: the number of counties only changes how much each task does.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from edustat import schedule
from edustat.alerts import task_failure_callback

TASK_DOCS = {
    "discover": "Registers the landing folder's new files in `ops.submissions` (one per "
                "distinct content per county). **Fails** when the warehouse or the landing "
                "folder cannot be reached: check `EDUSTAT_WAREHOUSE_DSN` / the mount, then "
                "*Clear*.",
    "read_and_stage": "Reads every received file (xlsx/csv, hostile-file guards) into "
                      "`raw.school_rows`; problems become findings, never a failure. **Fails** "
                      "only on a bug or lack of memory: the log names the file; *Clear*.",
    "validate": "Every row of the night screened set-based, then one Great Expectations "
                "checkpoint over the rows that may fail, plus year-over-year checks; results "
                "in `ops.validation_results`. **Fails** when the "
                "GX project is broken: `edustat suites`, then *Clear*.",
    "decide": "Accepts or rejects each file whole; rejected files move to quarantine with a "
              "bilingual report. The note says how many were rejected. **Fails** on a full "
              "disk: free space under `EDUSTAT_HOME`, *Clear* (it finishes what is left).",
    "build_marts": "dbt build of what changed into `marts_next`, tested, then swapped into "
                   "`marts` at once; county-years that break the build are held. **Fails** on a "
                   "failing dbt test: yesterday's marts keep serving; read the log, *Clear*.",
    "build_reports": "HTML pages and Excel workbooks of what changed, from the marts. **Fails**:"
                     " read the log; `edustat report` rebuilds by hand.",
    "finalize": "Closes the run in `ops.runs` and sends the digest (runs even when a step "
                "failed). **Fails** on purpose when a step above failed, after the digest.",
}

RUNBOOK = f"""
# edustat nightly intake — runbook

Every night at 02:00 ({schedule.TIMEZONE}) this DAG takes in the county files that arrived in
the landing folder (`$EDUSTAT_HOME/landing/<county_code>/`), validates them, accepts or rejects
each file whole, rebuilds the marts the ministries query and the reports, and sends one digest.

**A rejected or held county is a normal outcome**: the run stays green and its note (and the
note on `decide`) says how many counties were rejected or held; the counties are told by their
rejection report. `edustat status --problems` lists them.

Each task retries {schedule.RETRIES}× after {schedule.RETRY_DELAY.total_seconds() / 60:.0f}
minutes, and every step can be rerun safely (*Clear* the task). Run the night by hand with
`edustat run` or *Trigger* here. Look around: `edustat status`, `ops.runs`, `ops.submissions`,
the task logs.

## Tasks

""" + "\n".join(f"- **`{name}`**: {doc}" for name, doc in TASK_DOCS.items())


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
    dag_id=schedule.DAG_ID,
    description="县级报送 → 校验 → 接收/退回 → 数据集市 → 报告 | county files to marts, reports",
    schedule=schedule.CRON,
    start_date=pendulum.datetime(2026, 1, 1, tz=schedule.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "edustat-data-platform", "retries": schedule.RETRIES,
                  "retry_delay": schedule.RETRY_DELAY,
                  "on_failure_callback": task_failure_callback},
    params={
        "landing": Param(None, type=["null", "string"],
                         description="landing folder (default: EDUSTAT_HOME/landing)"),
        "year": Param(None, type=["null", "integer"],
                      description="school year to rebuild reports for (default: all)"),
    },
    tags=["edustat", "intake", "validation", "marts", "reports", "alerts"],
    doc_md=RUNBOOK,
)
def edustat_nightly() -> None:
    @task(doc_md=TASK_DOCS["discover"])
    def discover() -> dict:
        from edustat.pipeline import discover as run

        return run(_ctx())

    @task(doc_md=TASK_DOCS["read_and_stage"])
    def read_and_stage() -> dict:
        from edustat.pipeline import read_and_stage as run

        return run(_ctx())

    @task(doc_md=TASK_DOCS["validate"])
    def validate() -> dict:
        from edustat.pipeline import validate as run

        return run(_ctx())

    @task(doc_md=TASK_DOCS["decide"])
    def decide() -> dict:
        from edustat.pipeline import decide as run

        return run(_ctx())

    @task(doc_md=TASK_DOCS["build_marts"])
    def build_marts() -> dict:
        from edustat.pipeline import build_marts as run

        return run(_ctx())

    @task(doc_md=TASK_DOCS["build_reports"])
    def build_reports() -> dict:
        from edustat.pipeline import build_reports as run

        return run(_ctx())

    @task(trigger_rule="all_done", retries=0, doc_md=TASK_DOCS["finalize"])
    def finalize() -> dict:
        from edustat.pipeline import finalize as run

        outcome = run(_ctx())
        if outcome["failed_steps"]:
            # The digest is out; now make the run itself fail so `edustat run` exits non-zero.
            raise RuntimeError(f"nightly run incomplete: {', '.join(outcome['failed_steps'])}")
        return outcome

    (discover() >> read_and_stage() >> validate() >> decide() >> build_marts()
     >> build_reports() >> finalize())


edustat_nightly()
