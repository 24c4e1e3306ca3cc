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
                      duplicates, warnings, dbt_status, message
               FROM ops.runs WHERE logical_date = %s""", (outcome.logical_date,)).fetchone()
        if run is None:
            print("运行失败：Airflow 未能启动本次运行 / the run did not start."
                  f" Log: {outcome.log_path}")
            return False
        run_id, status, seen, new, acc, rej, dup, warn, dbt_status, message = run
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
    with psycopg.connect(dsn) as conn:
        subs = conn.execute(
            """SELECT county_code, school_year, status, submission_id, errors, warnings,
                      rejection_reason
               FROM ops.submissions WHERE status IN ('accepted', 'rejected')
                 AND school_year IS NOT NULL
               ORDER BY received_at, submission_id""").fetchall()
        submitted = [r[0] for r in conn.execute(
            "SELECT DISTINCT county_code FROM ops.submissions")]
    years = sorted({s[1] for s in subs} if year is None else {year})
    latest: dict[tuple[str, int], StatusRow] = {}
    for county, yr, status, sid, errors, warnings, reason in subs:
        key = (county, yr)
        # An accepted file keeps serving whatever is rejected after it.
        if status == "rejected" and key in latest and latest[key].status == "accepted":
            continue
        latest[key] = StatusRow(county, yr, status, sid, errors, warnings, reason)
    expected = set(divisions.expected_counties(settings.jurisdiction, submitted))
    rows = []
    for county in sorted(set(expected) | {k[0] for k in latest}):
        for yr in years:
            if (county, yr) in latest:
                rows.append(latest[(county, yr)])
            elif county in expected:  # a stray folder is listed only for what it sent
                rows.append(StatusRow(county, yr, "missing", None, 0, 0, None))
    return rows


_LABEL = {"accepted": "已接收 accepted", "rejected": "已退回 rejected", "missing": "未报送 missing"}


def print_status(settings: Settings, dsn: str, year: int | None = None) -> None:
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
