"""What a person reads after a run (`edustat run`, `demo`) and from `edustat status`."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from edustat import divisions
from edustat.config import Settings
from edustat.orchestration import DagRunOutcome


def mart_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        " AND table_type = 'BASE TABLE' ORDER BY 1")]
    return {t: conn.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0] for t in tables}


def print_run_summary(settings: Settings, dsn: str, outcome: DagRunOutcome) -> bool:
    with psycopg.connect(dsn) as conn:
        run = conn.execute(
            """SELECT run_id, status, files_seen, new_submissions, accepted, rejected,
                      duplicates, warnings, dbt_status, message, alerts_failed
               FROM ops.runs WHERE logical_date = %s""", (outcome.logical_date,)).fetchone()
        if run is None:
            print("运行失败：Airflow 未能启动本次运行 / the run did not start."
                  f" Log: {outcome.log_path}")
            return False
        run_id, status, seen, new, acc, rej, dup, warn, dbt_status, message, alerts_failed = run
        rejected = conn.execute(
            """SELECT county_code, school_year, file_name, rejection_reason, report_path
               FROM ops.submissions WHERE decided_run_id = %s AND status = 'rejected'
               ORDER BY county_code""", (run_id,)).fetchall()
        counts = mart_row_counts(conn)
    ok = status == "success" and outcome.returncode == 0
    print()
    print(f"== edustat 运行 run {run_id}: {'成功 success' if ok else '失败 FAILED'} ==")
    print(f"文件 files seen {seen}; 新报送 new {new}; 接收 accepted {acc}; 退回 rejected {rej};"
          f" 重复 duplicates {dup}; 警告 warnings {warn}; dbt {dbt_status or '-'}")
    if message:
        print(f"未完成的步骤 incomplete steps: {message}")
    for county, year, file_name, reason, report in rejected:
        print(f"  退回 rejected {divisions.county_name(county)} {county} {year or ''} "
              f"{file_name}: {reason}")
        if report:
            print(f"    退回通知 report: {report}")
    if counts:
        print("marts 行数 row counts: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    docs = settings.data_docs_index
    if docs.exists():
        print(f"校验明细 GX Data Docs: {docs}")
    print(f"Airflow log: {outcome.log_path}")
    if alerts_failed:  # last, where the eye lands: the data is fine, some people were not told
        print(f"通知未送达 {alerts_failed} 处（数据已处理）/ {alerts_failed} alert deliveries"
              " failed (the data night succeeded): see ops.deliveries")
    return ok


@dataclass
class StatusRow:
    county_code: str
    school_year: int
    status: str
    submission_id: int | None
    errors: int
    warnings: int
    reason: str | None


def status_rows(settings: Settings, dsn: str, year: int | None = None) -> list[StatusRow]:
    """Every county-year the warehouse's one definition lists (ops.county_year_status): the
    expected ones and whatever a county (even a stray folder) sent."""
    from edustat.notices.status import county_year_status

    with psycopg.connect(dsn) as conn:
        grid = county_year_status(conn, settings, year=year)
    rows = []
    for r in grid:
        rejected = r.status == "rejected"
        submission = {"accepted": r.accepted_submission_id, "held": r.held_submission_id,
                      "rejected": r.last_rejected_submission_id}.get(r.status)
        rows.append(StatusRow(
            r.county_code, r.school_year, r.status, submission,
            (r.last_rejected_errors or 0) if rejected else 0,
            0 if rejected else r.warnings or 0,
            r.last_rejection_reason if rejected else None))
    return rows


_LABEL = {"accepted": "已接收 accepted", "rejected": "已退回 rejected", "missing": "未报送 missing",
          "held": "暂缓入库 held"}


def print_status(settings: Settings, dsn: str, year: int | None = None) -> None:
    from edustat.notices.contacts import load_contacts

    for problem in load_contacts(settings).problems:
        print(problem.line())
    rows = status_rows(settings, dsn, year)
    if not rows:
        print("尚无报送 no submissions yet")
        return
    print(f"{'区县 county':<28}{'年度 year':>9}  {'状态 status':<18}{'报送 id':>8}"
          f"{'错误':>6}{'警告':>6}  原因 reason")
    for r in rows:
        name = f"{divisions.county_name(r.county_code)} {r.county_code}"
        print(f"{name:<28}{r.school_year:>9}  {_LABEL[r.status]:<18}"
              f"{r.submission_id or '':>8}{r.errors:>6}{r.warnings:>6}  {r.reason or ''}")
    missing = sum(r.status == "missing" for r in rows)
    print(f"共 {len(rows)} 行 rows；未报送 missing {missing}")
