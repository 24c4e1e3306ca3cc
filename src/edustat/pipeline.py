"""The nightly pipeline as plain functions: one per DAG task, testable without a scheduler.

State passes between tasks through the warehouse (ops.submissions status, raw rows), never
through XCom payloads, so every task can be retried alone: each one works on the submissions
still in the state it handles ('received'), whichever run discovered them.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from edustat import divisions, progress
from edustat.config import Settings, load_settings
from edustat.findings import Finding
from edustat.intake import landing
from edustat.warehouse import build_scope, publish
from edustat.warehouse.bootstrap import bootstrap
from edustat.warehouse.connection import resolve_dsn
from edustat.warehouse.load import (
    copy_school_rows,
    read_text_frame,
    school_rows_payload,
    write_findings,
)

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    run_id: str
    logical_date: datetime
    landing: Path | None = None
    year: int | None = None
    settings: Settings = field(default_factory=load_settings)

    @property
    def landing_dir(self) -> Path:
        return self.landing or self.settings.landing

    def dsn(self) -> str:
        return resolve_dsn(self.settings)


STEPS = ("discover", "read_and_stage", "validate", "decide", "build_marts", "build_reports")


def step(fn: Callable[[RunContext], dict[str, Any]]) -> Callable[[RunContext], dict[str, Any]]:
    """Record in ops.runs that this step of the run finished; log its start and its end with
    the returned counts and seconds (edustat.progress: what `edustat run` prints)."""

    @functools.wraps(fn)
    def wrapper(ctx: RunContext) -> dict[str, Any]:
        started = progress.step_started(fn.__name__)
        try:
            outcome = fn(ctx)
        except BaseException as exc:
            progress.step_failed(fn.__name__, started, exc)
            raise
        progress.step_done(fn.__name__, started, outcome)
        with psycopg.connect(ctx.dsn()) as conn:
            conn.execute(
                """UPDATE ops.runs SET steps_done = array_append(steps_done, %s)
                   WHERE run_id = %s AND NOT (%s = ANY(steps_done))""",
                (fn.__name__, ctx.run_id, fn.__name__),
            )
        return outcome

    return wrapper


def _received(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        """SELECT submission_id, county_code, file_name, landing_path, checksum, received_at
           FROM ops.submissions WHERE status = 'received' ORDER BY submission_id"""
    ).fetchall()


@step
def discover(ctx: RunContext) -> dict[str, int]:
    dsn = ctx.dsn()
    bootstrap(dsn)
    files = landing.scan(ctx.landing_dir)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)
               ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL""",
            (ctx.run_id, ctx.logical_date),
        )
        found = landing.register(conn, files, ctx.run_id, ctx.logical_date)
        conn.execute(
            "UPDATE ops.runs SET files_seen = %s, new_submissions = new_submissions + %s,"
            " duplicates = duplicates + %s WHERE run_id = %s",
            (found.files_seen, found.new_submissions, found.duplicates, ctx.run_id),
        )
    log.info("discovered %s files: %s new, %s duplicates", found.files_seen,
             found.new_submissions, found.duplicates)
    return {"files_seen": found.files_seen, "new": found.new_submissions,
            "duplicates": found.duplicates}


# Below this many files a process pool costs more than it saves.
_PARALLEL_READ_FROM = 16


@dataclass(frozen=True)
class _Staged:
    """What a read worker sends back: findings, the row count and the rows as COPY text."""

    findings: list[Finding]
    rows: int
    payload: bytes


def _read_one(args: tuple[str, str, Any, dict[str, Any]]) -> _Staged:
    from edustat.intake.readers import read_submission

    path, county, limits, meta = args
    result = read_submission(Path(path), county, limits)
    payload = school_rows_payload(meta, result.rows) if len(result.rows) else b""
    return _Staged(list(result.findings), len(result.rows), payload)


def _read_all(pending: list[tuple[Any, ...]], limits: Any) -> Iterator[tuple[tuple, _Staged]]:
    """Read the night's files, in parallel on every core when there are many; in order."""
    jobs = [(landing_path, county, limits,
             {"submission_id": submission_id, "county_folder": county, "file_name": file_name,
              "checksum": checksum, "received_at": received_at})
            for submission_id, county, file_name, landing_path, checksum, received_at in pending]
    if len(jobs) < _PARALLEL_READ_FROM or (os.cpu_count() or 1) < 2:
        yield from zip(pending, map(_read_one, jobs), strict=True)
        return
    # fork: the workers inherit the imported readers instead of importing them again.
    with ProcessPoolExecutor(max_workers=os.cpu_count(),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        yield from zip(pending, pool.map(_read_one, jobs, chunksize=8), strict=True)


@step
def read_and_stage(ctx: RunContext) -> dict[str, int]:
    """Read every received file and COPY its rows into raw; read problems become findings."""
    from edustat.intake.readers import ReadLimits

    limits = ReadLimits.from_settings(ctx.settings)
    known = set(divisions.all_county_units())
    staged = rows_total = 0
    with psycopg.connect(ctx.dsn()) as conn:
        pending = _received(conn)
        ids = [p[0] for p in pending]
        # A retried task starts over for the submissions it had not finished deciding.
        conn.execute("DELETE FROM raw.school_rows WHERE submission_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM ops.validation_results WHERE submission_id = ANY(%s)", (ids,))
        for (submission_id, county, *_), result in progress.track(
                _read_all(pending, limits), len(pending), "read_and_stage files"):
            findings = result.findings
            if county not in known:
                findings.append(_unknown_folder(county))
            write_findings(conn, submission_id, ctx.run_id, "read", findings)
            if result.rows:
                copy_school_rows(conn, result.payload)
                rows_total += result.rows
            conn.execute("UPDATE ops.submissions SET row_count = %s WHERE submission_id = %s",
                         (result.rows, submission_id))
            staged += 1
    if rows_total:
        # Fresh statistics for tonight's queries (validation, dbt); autovacuum comes later.
        with psycopg.connect(ctx.dsn(), autocommit=True) as conn:
            conn.execute("ANALYZE raw.school_rows")
    return {"submissions": staged, "rows": rows_total}


def _unknown_folder(county: str) -> Finding:
    return Finding(
        "unknown_county_folder", "critical", value=county,
        message_zh=f"报送文件夹「{county}」不是县级行政区划代码，请放入本县（区）代码命名的文件夹",
        message_en=(f"landing folder '{county}' is not a county-level division code: put the"
                    " file in the folder named after your county's code"),
    )


def _readable_frame(conn: psycopg.Connection, ids: list[int]) -> Any:
    from edustat.columns import KEYS

    meta = ["submission_id", "county_folder", "row_number"]
    return read_text_frame(
        conn,
        f"""SELECT {", ".join(f"r.{k}" for k in (*meta, *KEYS))}
            FROM raw.school_rows r
            WHERE r.submission_id = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM ops.validation_results v
                              WHERE v.submission_id = r.submission_id
                                AND v.stage = 'read' AND v.severity = 'critical')
            ORDER BY r.submission_id, r.row_number""",
        (ids,), [*meta, *KEYS], int_columns=("submission_id", "row_number"))


@step
def validate(ctx: RunContext) -> dict[str, int]:
    """One GX checkpoint run over all readable received rows, then year-over-year warnings."""
    from edustat.site import DATA_DOCS
    from edustat.validation.frame import build_frame
    from edustat.validation.history import year_over_year
    from edustat.validation.runner import validate_night

    with psycopg.connect(ctx.dsn()) as conn:
        ids = [p[0] for p in _received(conn)]
        conn.execute(
            "DELETE FROM ops.validation_results WHERE submission_id = ANY(%s)"
            " AND stage <> 'read'", (ids,))
        rows = _readable_frame(conn, ids)
        # A county code must also equal its folder, so the units of the provinces in
        # tonight's folders decide "known" exactly as the national list would, and GX
        # carries a short list instead of 2,855 codes through every expectation.
        provinces = {str(c)[:2] for c in rows["county_folder"].unique()}
        units = [u for p in sorted(provinces) for u in divisions.province_counties(p)]
        night = validate_night(build_frame(rows), ctx.settings.gx_home, units,
                               publish_to=ctx.settings.reports / DATA_DOCS)
        failing = 0
        for submission_id, findings in night.findings.items():
            write_findings(conn, submission_id, ctx.run_id, "validate", findings)
            failing += any(f.critical for f in findings)
        history = year_over_year(conn, ids)
        for submission_id, findings in history.items():
            write_findings(conn, submission_id, ctx.run_id, "history", findings)
    return {"validated_rows": len(rows), "checks": night.checks_run,
            "submissions_failing": failing}


def _rejection_reason(findings: list[Finding]) -> str:
    counts = Counter((f.check_id, f.column) for f in findings if f.critical)
    examples: dict[tuple[str, str | None], Finding] = {}
    for f in findings:
        if f.critical:
            examples.setdefault((f.check_id, f.column), f)
    parts = []
    for key, count in counts.most_common(3):
        f = examples[key]
        parts.append(f"{f.message_zh}（共{count}处） / {f.message_en} ({count}x)")
    more = len(counts) - 3
    if more > 0:
        parts.append(f"另有{more}类错误 / {more} more kinds of error")
    return "；".join(parts)


def _findings_of(conn: psycopg.Connection, ids: list[int]) -> dict[int, list[Finding]]:
    grouped: dict[int, list[Finding]] = defaultdict(list)
    for row in conn.execute(
        """SELECT submission_id, check_id, severity, message_zh, message_en, column_name,
                  row_number, value, school_code, failing_count
           FROM ops.validation_results WHERE submission_id = ANY(%s)
           ORDER BY submission_id, row_number NULLS FIRST, check_id""", (ids,)
    ):
        grouped[row[0]].append(Finding(*row[1:]))
    return grouped


@step
def decide(ctx: RunContext) -> dict[str, int]:
    """Accept or reject each received file whole, in one transaction; then quarantine."""
    from edustat.intake.rejection_report import RejectedFile, write_report

    accepted = rejected = 0
    to_quarantine = []
    with psycopg.connect(ctx.dsn()) as conn:
        pending = _received(conn)
        findings = _findings_of(conn, [p[0] for p in pending])
        for submission_id, county, file_name, path, checksum, received_at in pending:
            found = findings.get(submission_id, [])
            errors = sum(f.critical for f in found)
            warnings = len(found) - errors
            year = conn.execute(
                """SELECT mode() WITHIN GROUP (ORDER BY school_year) FROM raw.school_rows
                   WHERE submission_id = %s AND school_year ~ '^[0-9]{4}$'""",
                (submission_id,),
            ).fetchone()[0]
            year = int(year) if year else None
            if errors:
                rejected += 1
                conn.execute(
                    """UPDATE ops.submissions SET status = 'rejected', school_year = %s,
                           errors = %s, warnings = %s, rejection_reason = %s,
                           decided_run_id = %s WHERE submission_id = %s""",
                    (year, errors, warnings, _rejection_reason(found), ctx.run_id,
                     submission_id),
                )
                to_quarantine.append((submission_id, county, file_name, path, checksum,
                                      received_at, found))
                continue
            accepted += 1
            replaced = conn.execute(
                """SELECT submission_id FROM ops.submissions
                   WHERE county_code = %s AND school_year = %s AND status = 'accepted'
                   ORDER BY received_at DESC, submission_id DESC LIMIT 1""",
                (county, year),
            ).fetchone()
            conn.execute(
                """UPDATE ops.submissions SET status = 'accepted', school_year = %s,
                       errors = 0, warnings = %s, replaced_submission_id = %s,
                       decided_run_id = %s WHERE submission_id = %s""",
                (year, warnings, replaced[0] if replaced else None, ctx.run_id, submission_id),
            )
        conn.execute(
            "UPDATE ops.runs SET accepted = accepted + %s, rejected = rejected + %s"
            " WHERE run_id = %s", (accepted, rejected, ctx.run_id))
    with psycopg.connect(ctx.dsn()) as conn:
        for submission_id, county, file_name, path, checksum, received_at, found in to_quarantine:
            directory = landing.quarantine(Path(path), ctx.settings.quarantine, county,
                                           submission_id)
            info = RejectedFile(submission_id, county, divisions.county_name(county),
                                file_name, checksum, str(received_at))
            # A page of the site (rejections/<id>/), beside the site's Data Docs.
            html, _ = write_report(ctx.settings.reports, info, found)
            conn.execute(
                "UPDATE ops.submissions SET quarantine_path = %s, report_path = %s"
                " WHERE submission_id = %s", (str(directory), str(html), submission_id))
    return {"accepted": accepted, "rejected": rejected}


@step
def build_marts(ctx: RunContext) -> dict[str, Any]:
    """dbt build (models, seeds, tests) of what changed since the marts were last published,
    into marts_next; swapped in only when every test passed. A failing test fails the run."""
    from edustat.transform import PROJECT_DIR, dbt_build, dbt_docs_generate

    dsn = ctx.dsn()
    dbt_vars = _dbt_vars(ctx.settings)
    fingerprint = build_scope.project_fingerprint(PROJECT_DIR, dbt_vars)
    with psycopg.connect(dsn) as conn:
        scope = build_scope.plan(conn, fingerprint)
    if scope.empty:
        log.info("no county-year changed since the marts were published: nothing to build")
        _set_run(dsn, ctx.run_id, dbt_status="skipped")
        return {"dbt": "skipped"}
    log.info("dbt: %s", scope.describe())
    if scope.full:
        publish.drop_next(dsn)
    else:
        publish.clone_to_next(dsn)
    scope_var = scope.dbt_var()
    result = dbt_build(
        dsn, ctx.settings.dbt_target,
        vars=dbt_vars | {"marts_schema": publish.NEXT}
        | ({"build_scope": scope_var} if scope_var is not None else {}),
        full_refresh=scope.full,
        # Seeds are part of the fingerprint: unchanged since the last build when incremental.
        exclude=None if scope.full else "resource_type:seed")
    if not result.ok:
        _set_run(dsn, ctx.run_id, dbt_status="failed")
        # marts_next stays for the engineer to inspect; yesterday's marts keep serving.
        raise RuntimeError(f"dbt build failed: {result.summary()}")
    publish.publish(dsn, build_scope.fingerprint_comment(fingerprint))
    # Only now are this run's county-years published (build_scope reads dbt_status).
    _set_run(dsn, ctx.run_id, dbt_status="success")
    if _docs_stale(ctx.settings.dbt_target):
        dbt_docs_generate(dsn, ctx.settings.dbt_target)
    return {"dbt": "success", "elapsed_s": round(result.elapsed, 1), "scope": scope.describe()}


def _docs_stale(target: Path) -> bool:
    """dbt docs describe the project, not the data: regenerate only when the project changed."""
    from edustat.transform import PROJECT_DIR

    index = target / "index.html"
    if not index.exists():
        return True
    newest = max(p.stat().st_mtime for p in PROJECT_DIR.rglob("*")
                 if p.is_file() and "target" not in p.parts and "logs" not in p.parts)
    return newest > index.stat().st_mtime


def _dbt_vars(settings: Settings) -> dict[str, Any]:
    # first_year only when set: the vars are part of the build fingerprint, and a setting
    # nobody uses must not force a full rebuild.
    first_year = {"first_year": settings.first_year} if settings.first_year else {}
    return {"jurisdiction": list(settings.jurisdiction) if settings.jurisdiction else [],
            **first_year}


def _set_run(dsn: str, run_id: str, **values: Any) -> None:
    assignments = ", ".join(f"{k} = %s" for k in values)
    with psycopg.connect(dsn) as conn:
        conn.execute(f"UPDATE ops.runs SET {assignments} WHERE run_id = %s",
                     (*values.values(), run_id))


def report_links(settings: Settings) -> dict[str, str]:
    """Publish the Data Docs and dbt docs into the site; the links the pages carry."""
    from edustat.site import publish_docs

    return publish_docs(settings)


def unreported_counties(conn: psycopg.Connection) -> dict[int, set[str]]:
    """County codes by year whose pages are stale: every county decided in a run whose
    reports were not built (this one, or an earlier night that failed before its reports), in
    its year and in every later year (whose year-over-year figures moved with it)."""
    counties: dict[int, set[str]] = {}
    for county, year in conn.execute(
            """SELECT DISTINCT d.county_code, y.school_year FROM ops.submissions d
               JOIN (SELECT DISTINCT school_year FROM ops.submissions) y
                 ON y.school_year >= d.school_year
               WHERE d.decided_run_id IS NOT NULL AND d.status <> 'duplicate'
                 AND NOT EXISTS (SELECT 1 FROM ops.runs r WHERE r.run_id = d.decided_run_id
                                 AND 'build_reports' = ANY(r.steps_done))"""):
        counties.setdefault(year, set()).add(county)
    return counties


@step
def build_reports(ctx: RunContext) -> dict[str, Any]:
    """Reports of what changed since the last reports were built (unreported_counties); all
    years on the first night, the whole year when asked for one year."""
    from edustat.reports import NoDataForYears
    from edustat.reports import build_reports as render

    dsn = ctx.dsn()
    years: list[int] | None
    counties: dict[int, set[str]] | None = None
    if ctx.year:
        years = [ctx.year]
    elif not (ctx.settings.reports / "index.html").exists():
        years = None
    else:
        with psycopg.connect(dsn) as conn:
            counties = unreported_counties(conn)
        if not counties:
            return {"reports": "unchanged", "years": []}
        years = sorted(counties)
    try:
        result = render(dsn, ctx.settings.reports, years=years,
                        links=report_links(ctx.settings), counties=counties, run_id=ctx.run_id)
    except NoDataForYears as exc:
        # `edustat run --year Y` where nothing of Y was accepted: no empty year is published.
        log.warning("%s", exc)
        return {"reports": "no data", "years": []}
    return {"reports": str(ctx.settings.reports / "index.html"),
            "years": sorted(result.provincial), "pdf_problem": result.pdf_problem}


def finalize(ctx: RunContext) -> dict[str, Any]:
    """Close the run in ops.runs and send the night's notices (edustat.notices): the counties'
    own, the regions' digests and the full digest. Undeliverable ones are recorded and counted
    (ops.runs.alerts_failed), never a failure of the run."""
    from edustat.alerts import notify_night

    dsn = ctx.dsn()
    bootstrap(dsn)  # the run may have failed before discovery created anything
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)"
            " ON CONFLICT (run_id) DO NOTHING", (ctx.run_id, ctx.logical_date))
        done = conn.execute("SELECT steps_done FROM ops.runs WHERE run_id = %s",
                            (ctx.run_id,)).fetchone()[0]
        failed_tasks = [s for s in STEPS if s not in done]
        status = "failed" if failed_tasks else "success"
        warnings = conn.execute(
            "SELECT coalesce(sum(warnings), 0) FROM ops.submissions WHERE decided_run_id = %s",
            (ctx.run_id,)).fetchone()[0]
        conn.execute(
            """UPDATE ops.runs SET status = %s, finished_at = clock_timestamp(), warnings = %s,
                   message = %s WHERE run_id = %s""",
            (status, warnings, ", ".join(failed_tasks) or None, ctx.run_id),
        )
    notices = notify_night(ctx.settings, dsn, ctx.run_id)
    return {"status": status, "failed_steps": failed_tasks, "digest": notices.digest,
            "notices_sent": notices.sent, "alerts_failed": notices.failed}
