"""The immediate alert when an Airflow task fails (its on_failure_callback).

Airflow runs task callbacks after the task has failed; an exception here would only bury
the real error in the log, so everything is caught. Context access is defensive: the
callback must still say *something* if Airflow hands over less than usual.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from edustat.alerting.deadline import local_day
from edustat.alerting.delivery import DeliveryReport, send
from edustat.alerting.digest import Digest
from edustat.alerting.text import clip, first_lines
from edustat.config import Settings

log = logging.getLogger("edustat.alerts")

EXCEPTION_LINES = 12


def task_failure_callback(context: Mapping[str, Any]) -> None:
    """Airflow on_failure_callback: send one alert naming the task and its error."""
    try:
        from edustat.config import load_settings

        digest = failure_digest(context)
        settings = load_settings()
        log.error("%s\n%s", digest.title, digest.body)
        report = send(digest, settings.alert_urls)
    except Exception:
        log.exception("任务失败告警出错 / the task-failure alert itself failed")
        return
    _record(settings, digest, report)


def _record(settings: Settings, digest: Digest, report: DeliveryReport) -> None:
    """Best effort: put the alert in ops.deliveries, so the run's summary counts an
    undelivered one. Only with an explicit warehouse DSN (Airflow sets it): a failure callback
    must not start an embedded server."""
    run_id, day = digest.fields.get("run_id"), digest.fields.get("logical_date")
    if not settings.warehouse_dsn or not report.results or run_id in (None, "?") or not day:
        return
    try:
        import psycopg

        from edustat.notices.deliveries import Ledger

        with psycopg.connect(settings.warehouse_dsn, autocommit=True, connect_timeout=5) as conn:
            ledger = Ledger(conn, run_id, datetime.fromisoformat(day))
            for result in report.results:
                ledger.record("task_failure", None, result, digest.title)
    except Exception:
        log.exception("任务失败告警未能记录 / could not record the task-failure alert")


def failure_digest(context: Mapping[str, Any]) -> Digest:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    task_id = _attr(ti, "task_id") or _attr(context.get("task"), "task_id") or "?"
    dag_id = _attr(ti, "dag_id") or _attr(context.get("dag"), "dag_id") or "?"
    run_id = context.get("run_id") or _attr(ti, "run_id") or _attr(dag_run, "run_id") or "?"
    # Airflow 3 runs triggered by hand may have no logical date; run_after is when it ran.
    logical_date = (
        context.get("logical_date")
        or _attr(dag_run, "logical_date")
        or _attr(dag_run, "run_after")
    )
    try_number = _attr(ti, "try_number")
    if try_number is None:
        try_number = context.get("try_number")
    max_tries = _attr(ti, "max_tries")
    log_url = _attr(ti, "log_url")
    error = _exception_text(context.get("exception"))
    where = _exception_place(context.get("exception"))

    when = _when(logical_date)
    tries = f"{try_number if try_number is not None else '?'}" + (
        f"/{max_tries + 1}" if isinstance(max_tries, int) else ""
    )
    # One block with bilingual labels: the error text is usually English already, and
    # repeating it in a second language section would only double the message.
    head = [
        f"edustat 任务失败 Task failed：{dag_id}.{task_id}",
        f"任务 Task：{task_id}",
        f"DAG：{dag_id}",
        f"运行 Run：{run_id}",
        f"逻辑日期 Logical date：{when}",
        f"尝试 Try：{tries}",
    ]
    tail = [f"出错位置 Raised at：{where}"] if where else []
    if log_url:
        tail.append(f"日志 Log：{log_url}")
    body = [*head, "错误 Error：", error, *tail]
    short = [head[0], head[3], "错误 Error：", first_lines(error, 4), *tail[-1:]]
    return Digest(
        title=clip(
            f"【edustat】任务失败 {dag_id}.{task_id}（{run_id}）| Task failed: {task_id}", 250
        ),
        body="\n".join(body),
        short_body="\n".join(short),
        severity="failure",
        fields={
            "kind": "task_failure",
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": run_id,
            "logical_date": (
                logical_date.isoformat() if isinstance(logical_date, datetime) else None
            ),
            "try_number": try_number,
            "error": error,
            "raised_at": where,
            "log_url": log_url,
        },
    )


def _attr(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name, None) if obj is not None else None
    except Exception:  # properties such as log_url read Airflow config and may fail
        return None


def _when(logical_date: object) -> str:
    if isinstance(logical_date, datetime):
        return f"{logical_date.isoformat()}（北京日期 {local_day(logical_date)}）"
    return str(logical_date) if logical_date else "?"


def _exception_text(exc: object) -> str:
    if exc is None:
        return "（Airflow 未提供异常 / no exception in context）"
    text = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc)
    return first_lines(text, EXCEPTION_LINES)


def _exception_place(exc: object) -> str | None:
    """file:line in function of the innermost frame: where to start reading the code."""
    if not isinstance(exc, BaseException) or exc.__traceback__ is None:
        return None
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"
