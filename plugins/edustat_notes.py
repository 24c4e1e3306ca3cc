"""Airflow listener plugin: a night that rejected or held counties says so at a glance.

Rejected and held counties are a normal outcome, so such a run stays green. When an edustat
run finishes (scheduled, triggered in the UI, `edustat run` or `edustat demo` alike: the
listener runs wherever Airflow closes the run), this writes a run note and a note on the
`decide` task, read from what the tasks returned: `decide` → {"rejected": n}, `build_marts` →
{"held": n or [...]}. A failed run gets a note naming the failed tasks.

Like every module in plugins/, this imports neither the edustat package nor a heavy library
(Airflow loads it in every component): only Airflow's own models.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)

DAG_PREFIX = "edustat"


def _count(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    return len(value) if isinstance(value, list | tuple | set | dict) else 0


def night_notes(results: dict[str, Any], failed_tasks: list[str]
                ) -> tuple[str | None, str | None]:
    """(run note, note on `decide`) from the tasks' return values; None: nothing to say."""
    decide = results.get("decide") or {}
    marts = results.get("build_marts") or {}
    rejected = _count(decide.get("rejected")) if isinstance(decide, dict) else 0
    held = _count(marts.get("held")) if isinstance(marts, dict) else 0
    outcome = (f"⚠️ 退回 rejected {rejected} · 暂缓 held {held} 个文件 files — "
               "`edustat status --problems`") if rejected or held else None
    failure = (f"❌ 失败的任务 failed tasks: {', '.join(failed_tasks)} — see the DAG's runbook"
               if failed_tasks else None)
    run_note = "\n".join(p for p in (failure, outcome) if p) or None
    return run_note, outcome


def _annotate(dag_run: Any) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    if not str(dag_run.dag_id).startswith(DAG_PREFIX):
        return
    session = object_session(dag_run)
    if session is None:
        # `airflow dags test` hands over a run no longer bound to a session.
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session

        with create_session() as own:
            bound = own.scalar(select(DagRun).where(DagRun.dag_id == dag_run.dag_id,
                                                    DagRun.run_id == dag_run.run_id))
            if bound is not None:
                _write_notes(bound, own)
        return
    _write_notes(dag_run, session)


def _write_notes(dag_run: Any, session: Any) -> None:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    rows = session.execute(
        select(XComModel.task_id, XComModel.value).where(
            XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id,
            XComModel.key == "return_value", XComModel.map_index == -1)).all()
    results = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    tis = dag_run.get_task_instances(session=session)
    failed = sorted(ti.task_id for ti in tis if ti.state in ("failed", "upstream_failed"))
    run_note, decide_note = night_notes(results, failed)
    if run_note is None:
        return
    dag_run.note = run_note
    decide = next((ti for ti in tis if ti.task_id == "decide"), None)
    if decide is not None and decide_note:
        decide.note = decide_note
    session.flush()


class _NightNotes:
    @hookimpl
    def on_dag_run_success(self, dag_run: Any, msg: str) -> None:
        self._safely(dag_run)

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any, msg: str) -> None:
        self._safely(dag_run)

    @staticmethod
    def _safely(dag_run: Any) -> None:
        try:
            _annotate(dag_run)
        except Exception:  # a note must never break closing the run
            log.exception("edustat: could not write the run note")


class EdustatNotesPlugin(AirflowPlugin):
    name = "edustat_notes"
    listeners: ClassVar[list[Any]] = [_NightNotes()]
