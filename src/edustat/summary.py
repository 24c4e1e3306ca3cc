"""What a person reads after a run (`edustat run`, `demo`) and from `edustat status`.

Both start with one summary line; tables are aligned by display width (a Chinese character
takes two columns in a terminal), so county names never shift the columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import psycopg
from wcwidth import wcswidth

from edustat import divisions
from edustat.config import Settings
from edustat.orchestration import DagRunOutcome
from edustat.reports.labels import code_labels


def display_width(text: str) -> int:
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def table(header: Sequence[str], rows: Iterable[Sequence[str]],
          right: Sequence[bool] = ()) -> list[str]:
    """Lines of a plain-text table, every column as wide as its widest cell on screen; the
    last column is left ragged (reasons can be long)."""
    body = [list(map(str, row)) for row in rows]
    widths = [max(display_width(r[i]) for r in [list(header), *body])
              for i in range(len(header))]
    aligned = [*right, *[False] * len(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [pad(c, widths[i], aligned[i]) if i < len(cells) - 1 else c
                 for i, c in enumerate(cells)]
        return "  ".join(parts).rstrip()

    return [line(header), *map(line, body)]


def _columns(conn: psycopg.Connection, schema: str, name: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s", (schema, name))}


def mart_row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        " AND table_type = 'BASE TABLE' ORDER BY 1")]
    return {t: conn.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0] for t in tables}


def print_run_summary(settings: Settings, dsn: str, outcome: DagRunOutcome,
                      say: Callable[[str], None] = print) -> bool:
    with psycopg.connect(dsn) as conn:
        query = """SELECT run_id, status, files_seen, new_submissions, accepted, rejected,
                          duplicates, warnings, dbt_status, message, alerts_failed
                   FROM ops.runs WHERE """
        run = None
        if outcome.run_id:
            run = conn.execute(query + "run_id = %s", (outcome.run_id,)).fetchone()
        if run is None:
            run = conn.execute(query + "logical_date = %s", (outcome.logical_date,)).fetchone()
        if run is None:
            say("运行失败：Airflow 未能开始本次运行 / the run did not start"
                + (f": {outcome.error}" if outcome.error else "") + f". Log: {outcome.log_path}")
            return False
        run_id, status, seen, new, acc, rej, dup, warn, dbt_status, message, alerts_failed = run
        rejected = conn.execute(
            """SELECT county_code, school_year, file_name, rejection_reason, report_path
               FROM ops.submissions WHERE decided_run_id = %s AND status = 'rejected'
               ORDER BY county_code""", (run_id,)).fetchall()
        held = []
        if "held_reason" in _columns(conn, "ops", "submissions"):
            held = conn.execute(
                """SELECT county_code, school_year, file_name, held_reason
                   FROM ops.submissions WHERE status = 'held' ORDER BY county_code""").fetchall()
        counts = mart_row_counts(conn)
    ok = status == "success" and outcome.returncode == 0
    say("")
    say(f"== edustat 运行 run {run_id}: {'成功 success' if ok else '失败 FAILED'} ==")
    say(f"文件 files seen {seen}; 新报送 new {new}; 接收 accepted {acc}; 退回 rejected {rej};"
        f" 暂缓 held {len(held)}; 重复 duplicates {dup}; 警告 warnings {warn};"
        f" dbt {dbt_status or '-'}")
    if message:
        say(f"未完成的步骤 incomplete steps: {message}")
    if not ok and outcome.error:
        say(f"错误 error: {outcome.error}")
    for county, year, file_name, reason, report in rejected:
        say(f"  退回 rejected {divisions.county_name(county)} {county} {year or ''} "
            f"{file_name}: {reason}")
        if report:
            say(f"    退回通知 report: {report}")
    for county, year, file_name, reason in held:
        say(f"  暂缓 held {divisions.county_name(county)} {county} {year or ''} {file_name}:"
            f" {reason}")
    if counts:
        say("marts 行数 row counts: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    docs = settings.data_docs_index
    if docs.exists():
        say(f"校验明细 GX Data Docs: {docs}")
    say(f"Airflow log: {outcome.log_path}")
    if alerts_failed:  # last, where the eye lands: the data is fine, some people were not told
        say(f"通知未送达 {alerts_failed} 处（数据已处理）/ {alerts_failed} alert deliveries"
            " failed (the data night succeeded): see ops.deliveries")
    return ok


@dataclass
class StatusRow:
    county_code: str
    school_year: int | None
    status: str  # accepted | rejected | held | received | missing
    submission_id: int | None
    errors: int
    warnings: int
    reason: str | None


# What each status is called, in the order the summary line counts them.
LABELS = {code: f"{zh} {en}" for code, (zh, en) in
          {**code_labels()["status"], **code_labels()["file_status"]}.items()}
PROBLEMS = frozenset({"rejected", "held", "missing"})


def status_rows(settings: Settings, dsn: str, year: int | None = None,
                include_unplaced: bool = False) -> list[StatusRow]:
    """Every county-year the warehouse's one definition lists (ops.county_year_status): the
    expected ones and whatever a county (even a stray folder) sent. With `include_unplaced`,
    also the files not yet judged (received) and those without a year (unreadable)."""
    from edustat.notices.status import county_year_status

    with psycopg.connect(dsn) as conn:
        grid = county_year_status(conn, settings, year=year)
        pending = conn.execute(
            """SELECT county_code, school_year, status, submission_id, errors, warnings,
                      rejection_reason
               FROM ops.submissions
               WHERE status = 'received' OR (school_year IS NULL AND status = 'rejected')
               ORDER BY county_code, received_at, submission_id""").fetchall() \
            if include_unplaced else []
    rows = []
    for r in grid:
        rejected = r.status == "rejected"
        submission = {"accepted": r.accepted_submission_id, "held": r.held_submission_id,
                      "rejected": r.last_rejected_submission_id}.get(r.status)
        rows.append(StatusRow(
            r.county_code, r.school_year, r.status, submission,
            (r.last_rejected_errors or 0) if rejected else 0,
            0 if rejected else r.warnings or 0,
            r.last_rejection_reason if rejected else r.held_reason))
    rows += [StatusRow(*row) for row in pending
             if year is None or row[1] in (None, year)]
    return sorted(rows, key=lambda r: (r.county_code, r.school_year or 0))


def filter_rows(rows: list[StatusRow], problems: bool = False,
                provinces: Sequence[str] = ()) -> list[StatusRow]:
    if provinces:
        rows = [r for r in rows if r.county_code[:2] in provinces]
    if problems:
        rows = [r for r in rows if r.status in PROBLEMS or r.errors]
    return rows


def summary_line(rows: list[StatusRow]) -> str:
    counts = Counter(r.status for r in rows)
    counties = len({r.county_code for r in rows})
    years = sorted({r.school_year for r in rows if r.school_year is not None})
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "-")
    parts = "，".join(f"{LABELS[s]} {counts[s]}" for s in LABELS if counts[s])
    return f"{counties} 个县 counties，年度 years {span}：{parts or '无 none'}"


def print_status(settings: Settings, dsn: str, year: int | None = None, problems: bool = False,
                 provinces: Sequence[str] = (), say: Callable[[str], None] = print) -> None:
    from edustat.notices.contacts import load_contacts

    for problem in load_contacts(settings).problems:
        say(problem.line())
    everything = status_rows(settings, dsn, year, include_unplaced=True)
    if not everything:
        say("尚无报送 no submissions yet")
        return
    rows = filter_rows(everything, problems, provinces)
    say(summary_line(filter_rows(everything, provinces=provinces)))
    if not rows:
        say("没有需要处理的问题 nothing needs attention" if problems
            else "没有符合条件的行 no rows match")
        return
    say("")
    lines = table(
        ["区县 county", "代码 code", "年度 year", "状态 status", "报送 id", "错误 errors",
         "警告 warnings", "原因 reason"],
        ([divisions.county_name(r.county_code) or "?", r.county_code,
          str(r.school_year or "—"), LABELS[r.status], str(r.submission_id or ""),
          str(r.errors), str(r.warnings), r.reason or ""] for r in rows),
        right=[False, False, True, False, True, True, True])
    for line in lines:
        say(line)
    if len(rows) < len(everything):
        say(f"（显示 {len(rows)} / {len(everything)} 行 showing {len(rows)} of "
            f"{len(everything)} rows）")
