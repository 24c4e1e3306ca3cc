"""The nightly pipeline as plain functions: one per DAG task, testable without a scheduler.

State passes between tasks through the warehouse (ops.submissions status, raw rows), never
through XCom payloads, so every task can be retried alone, and rerun after a crash at any
point, and finish the job: each one works on what is still to do, whichever run left it —
submissions still 'received', rejected ones without a report, decisions the published marts
do not reflect, decisions no digest has announced.

One night at a time: every step holds the warehouse's night lock while it works
(edustat.warehouse.nightlock); a run that finds another night under way refuses with
NightInProgress, in one line.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import multiprocessing
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from edustat import divisions, progress
from edustat.config import Settings, load_settings
from edustat.findings import Finding
from edustat.intake import landing
from edustat.processes import die_with_parent
from edustat.warehouse import build_scope, isolation, nightlock, publish
from edustat.warehouse.bootstrap import bootstrap
from edustat.warehouse.connection import resolve_dsn
from edustat.warehouse.load import (
    copy_school_rows,
    read_text_frame,
    school_rows_payload,
    write_findings,
)
from edustat.warehouse.nightlock import NightInProgress, night_in_progress

log = logging.getLogger(__name__)

__all__ = ["STEPS", "NightInProgress", "QuarantineFailed", "RunContext", "build_marts",
           "build_reports", "decide", "discover", "finalize", "night_in_progress",
           "read_and_stage", "validate"]

# A step of a run already under way waits this long for another night's step to finish.
_NIGHT_WAIT_SECONDS = 3600.0


class QuarantineFailed(RuntimeError):
    """Rejected files could not be moved to quarantine or reported: the run must fail."""


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
    """Run the step under the night lock, then record in ops.runs that it finished; log its
    start and its end with the returned counts and seconds (edustat.progress: what
    `edustat run` prints)."""

    @functools.wraps(fn)
    def wrapper(ctx: RunContext) -> dict[str, Any]:
        dsn = ctx.dsn()
        # The first step of a run refuses another night at once; later ones wait for it.
        wait = 0.0 if fn.__name__ == STEPS[0] else _NIGHT_WAIT_SECONDS
        started = progress.step_started(fn.__name__)
        try:
            with nightlock.night(dsn, ctx.run_id, fn.__name__, wait):
                outcome = fn(ctx)
                with psycopg.connect(dsn) as conn:
                    conn.execute(
                        """UPDATE ops.runs SET steps_done = array_append(steps_done, %s)
                           WHERE run_id = %s AND NOT (%s = ANY(steps_done))""",
                        (fn.__name__, ctx.run_id, fn.__name__),
                    )
        except NightInProgress as refused:
            progress.step_failed(fn.__name__, started, refused)
            _record_refusal(dsn, ctx, refused)
            raise
        except BaseException as exc:
            progress.step_failed(fn.__name__, started, exc)
            raise
        progress.step_done(fn.__name__, started, outcome)
        return outcome

    return wrapper


def _record_refusal(dsn: str, ctx: RunContext, refused: NightInProgress) -> None:
    """For `edustat run` and the digest: why this run did nothing (it touched nothing else)."""
    bootstrap(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)"
                     " ON CONFLICT (run_id) DO NOTHING", (ctx.run_id, ctx.logical_date))
        conn.execute("UPDATE ops.runs SET note = %s WHERE run_id = %s",
                     (str(refused), ctx.run_id))


def _received(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        """SELECT submission_id, county_code, file_name, landing_path, landing_path_bytes,
                  checksum, received_at
           FROM ops.submissions WHERE status = 'received' ORDER BY submission_id"""
    ).fetchall()


def _open_run(conn: psycopg.Connection, ctx: RunContext) -> None:
    conn.execute(
        """INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, %s)
           ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL""",
        (ctx.run_id, ctx.logical_date),
    )


@step
def discover(ctx: RunContext) -> dict[str, int]:
    """Register the settled landing files; record the ones still arriving."""
    bootstrap(ctx.dsn())
    found_files = landing.scan(ctx.landing_dir, settled_before=ctx.logical_date - timedelta(
        seconds=ctx.settings.settle_seconds))
    with psycopg.connect(ctx.dsn()) as conn:
        _open_run(conn, ctx)
        # Holding the night lock, this run is the only one at work: a run still 'running'
        # was killed (or is waiting between steps; its own closing step sets it right).
        stale = [r[0] for r in conn.execute(
            """UPDATE ops.runs SET status = 'failed', finished_at = clock_timestamp(),
                   note = concat_ws('; ', note, %s::text)
               WHERE status = 'running' AND run_id <> %s RETURNING run_id""",
            (f"运行中断，由运行 {ctx.run_id} 关闭 / interrupted: closed by run {ctx.run_id}",
             ctx.run_id))]
        if stale:
            log.warning("closed runs left running by a crash: %s", ", ".join(stale))
        found = landing.register(conn, found_files.settled, ctx.run_id, ctx.logical_date)
        arriving = landing.record_arrivals(conn, ctx.run_id, found_files.arriving)
        conn.execute(
            "UPDATE ops.runs SET files_seen = %s, new_submissions = new_submissions + %s,"
            " duplicates = duplicates + %s, arriving = %s WHERE run_id = %s",
            (found.files_seen, found.new_submissions, found.duplicates, arriving, ctx.run_id),
        )
    log.info("discovered %s settled files: %s new, %s duplicates; %s still arriving",
             found.files_seen, found.new_submissions, found.duplicates, arriving)
    return {"files_seen": found.files_seen, "new": found.new_submissions,
            "duplicates": found.duplicates, "arriving": arriving}


# Below this many files a process pool costs more than it saves.
_PARALLEL_READ_FROM = 16


@dataclass(frozen=True)
class _Staged:
    """What a read worker sends back: findings, the rows (count, COPY text) and their year."""

    findings: list[Finding]
    rows: int
    payload: bytes
    school_year: int | None


def _read_one(args: tuple[Path, str, Any, dict[str, Any]]) -> _Staged:
    from edustat.intake.readers import file_year, read_submission

    path, county, limits, meta = args
    result = read_submission(path, county, limits)
    payload = school_rows_payload(meta, result.rows) if len(result.rows) else b""
    return _Staged(list(result.findings), len(result.rows), payload, file_year(result.rows))


def _read_jobs(pending: list[tuple[Any, ...]], limits: Any) -> list[tuple]:
    return [(landing.landing_path(path, exact), county, limits,
             {"submission_id": submission_id, "county_folder": county, "file_name": file_name,
              "checksum": checksum, "received_at": received_at})
            for submission_id, county, file_name, path, exact, checksum, received_at in pending]


def _read_pool(jobs: int) -> ProcessPoolExecutor | None:
    """Workers for a night with many files, started before any warehouse connection opens.

    fork: the workers inherit the imported readers instead of importing them again. Forked
    before connecting, they hold no connection of this process; dying with it (a kill -9 of
    the task), they never outlive it. A daemonic process (a task run inside a Celery prefork
    child) may not have children: it reads in-process.
    """
    if (jobs < _PARALLEL_READ_FROM or (os.cpu_count() or 1) < 2
            or multiprocessing.current_process().daemon):
        return None
    pool = ProcessPoolExecutor(max_workers=os.cpu_count(),
                               mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    pool.submit(int).result()  # a fork pool starts all its workers on the first task
    return pool


@step
def read_and_stage(ctx: RunContext) -> dict[str, int]:
    """Read every received file and COPY its rows into raw; read problems become findings.
    The file's school year is decided here, once (ops.submissions.school_year)."""
    from edustat.intake.readers import ReadLimits

    limits = ReadLimits.from_settings(ctx.settings)
    known = set(divisions.all_county_units())
    staged = rows_total = 0
    with psycopg.connect(ctx.dsn()) as conn:
        pending = _received(conn)
    pool = _read_pool(len(pending))
    try:
        jobs = _read_jobs(pending, limits)
        results = pool.map(_read_one, jobs, chunksize=8) if pool else map(_read_one, jobs)
        with psycopg.connect(ctx.dsn()) as conn:
            ids = [p[0] for p in pending]
            # A retried task starts over for the submissions it had not finished deciding.
            conn.execute("DELETE FROM raw.school_rows WHERE submission_id = ANY(%s)", (ids,))
            conn.execute("DELETE FROM ops.validation_results WHERE submission_id = ANY(%s)",
                         (ids,))
            for (submission_id, county, *_), result in progress.track(
                    zip(pending, results, strict=True), len(pending), "read_and_stage files"):
                findings = result.findings
                if county not in known:
                    findings.append(_unknown_folder(county))
                write_findings(conn, submission_id, ctx.run_id, "read", findings)
                if result.rows:
                    copy_school_rows(conn, result.payload)
                    rows_total += result.rows
                conn.execute("UPDATE ops.submissions SET row_count = %s, school_year = %s"
                             " WHERE submission_id = %s",
                             (result.rows, result.school_year, submission_id))
                staged += 1
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
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

    meta = ["submission_id", "county_folder", "row_number", "file_school_year"]
    return read_text_frame(
        conn,
        f"""SELECT r.submission_id, r.county_folder, r.row_number, s.school_year,
                   {", ".join(f"r.{k}" for k in KEYS)}
            FROM raw.school_rows r
            JOIN ops.submissions s USING (submission_id)
            WHERE r.submission_id = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM ops.validation_results v
                              WHERE v.submission_id = r.submission_id
                                AND v.stage = 'read' AND v.severity = 'critical')
            ORDER BY r.submission_id, r.row_number""",
        (ids,), [*meta, *KEYS], int_columns=("submission_id", "row_number"))


@step
def validate(ctx: RunContext) -> dict[str, int]:
    """One GX checkpoint run over the readable received rows that set-based screening says
    may fail (validation.screen), then year-over-year warnings."""
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
    """Accept or reject each received file whole, in one transaction; then quarantine and
    report every rejected file that has no report yet, whichever run rejected it."""
    accepted = rejected = 0
    with psycopg.connect(ctx.dsn()) as conn:
        pending = _received(conn)
        findings = _findings_of(conn, [p[0] for p in pending])
        for submission_id, *_ in pending:
            found = findings.get(submission_id, [])
            errors = sum(f.critical for f in found)
            warnings = len(found) - errors
            if errors:
                rejected += 1
                conn.execute(
                    """UPDATE ops.submissions SET status = 'rejected', errors = %s,
                           warnings = %s, rejection_reason = %s, decided_run_id = %s
                       WHERE submission_id = %s""",
                    (errors, warnings, _rejection_reason(found), ctx.run_id, submission_id),
                )
                continue
            accepted += 1
            conn.execute(
                """UPDATE ops.submissions s SET status = 'accepted', errors = 0, warnings = %s,
                       decided_run_id = %s,
                       replaced_submission_id = (
                           SELECT p.submission_id FROM ops.submissions p
                           WHERE p.county_code = s.county_code
                             AND p.school_year = s.school_year AND p.status = 'accepted'
                           ORDER BY p.received_at DESC, p.submission_id DESC LIMIT 1)
                   WHERE s.submission_id = %s""",
                (warnings, ctx.run_id, submission_id),
            )
        conn.execute(
            "UPDATE ops.runs SET accepted = accepted + %s, rejected = rejected + %s"
            " WHERE run_id = %s", (accepted, rejected, ctx.run_id))
    reported = _quarantine_rejected(ctx)
    return {"accepted": accepted, "rejected": rejected, "reported": reported}


def _quarantine_rejected(ctx: RunContext) -> int:
    """Move every rejected file without a report to quarantine and write its report.

    Driven by what is left to do, not by tonight's decisions: a run that crashed after
    committing its decisions, or whose quarantine failed, has its files done by the retry or
    the next night. Each file is recorded as soon as it is done; any failure fails the run
    (QuarantineFailed) once the others are done, and leaves that file in the landing.
    """
    from edustat.intake.rejection_report import RejectedFile, write_report

    failures: list[str] = []
    done = 0
    with psycopg.connect(ctx.dsn(), autocommit=True) as conn:
        todo = conn.execute(
            """SELECT submission_id, county_code, file_name, landing_path, landing_path_bytes,
                      checksum, received_at
               FROM ops.submissions WHERE status = 'rejected' AND report_path IS NULL
               ORDER BY submission_id""").fetchall()
        findings = _findings_of(conn, [t[0] for t in todo])
        for submission_id, county, file_name, path, exact, checksum, received_at in todo:
            try:
                directory = landing.quarantine(landing.landing_path(path, exact),
                                               ctx.settings.quarantine, county, submission_id)
                info = RejectedFile(submission_id, county, divisions.county_name(county),
                                    file_name, checksum, str(received_at))
                # A page of the site (rejections/<id>/), beside the site's Data Docs.
                html, _ = write_report(ctx.settings.reports, info,
                                       findings.get(submission_id, []))
            except OSError as exc:
                failures.append(f"{county}/{file_name}: {exc.strerror or exc}")
                continue
            conn.execute(
                "UPDATE ops.submissions SET quarantine_path = %s, report_path = %s"
                " WHERE submission_id = %s", (str(directory), str(html), submission_id))
            done += 1
    if failures:
        raise QuarantineFailed(
            f"{len(failures)} 个被退回的文件未能移入隔离区或生成退回通知，"
            f"已留在报送目录，下次运行重试 / {len(failures)} rejected files could not be "
            "quarantined or reported; they stay in the landing and the next run retries: "
            f"{'; '.join(failures[:3])}")
    return done


@step
def build_marts(ctx: RunContext) -> dict[str, Any]:
    """dbt build (models, seeds, tests) of what changed since the marts were last published,
    into marts_next; swapped in only when every test passed. When the build fails on some
    county-years' data, those are held back (edustat.warehouse.isolation) and every other
    county is published; a failure that is not the data's fails the run."""
    from edustat.transform import PROJECT_DIR

    dsn = ctx.dsn()
    dbt_vars = _dbt_vars(ctx.settings)
    fingerprint = build_scope.project_fingerprint(PROJECT_DIR, dbt_vars)
    with psycopg.connect(dsn) as conn:
        scope = build_scope.plan(conn, fingerprint)
        candidates = isolation.candidates(conn, fingerprint)
    if scope.empty:
        log.info("no county-year changed since the marts were published: nothing to build")
        _set_run(dsn, ctx.run_id, dbt_status="skipped")
        return {"dbt": "skipped"}
    log.info("dbt: %s; %s candidate county-years", scope.describe(), len(candidates))
    builder = _MartsBuild(ctx, scope, dbt_vars, candidates)
    everyone = frozenset(c.submission_id for c in candidates)
    try:
        result = builder.build(everyone)
        culprits: dict[int, Any] = {}
        last_ok = everyone if result.ok else None
        if not result.ok:
            if isolation.platform_failure(result) or not candidates:
                raise _build_failed(dsn, ctx, result)
            found = isolation.isolate(builder.build, sorted(
                everyone, key=lambda i: builder.key_of[i]), result)
            if found is None:
                raise _build_failed(dsn, ctx, result)
            culprits = found.culprits
            last_ok = found.last_included
            log.warning("held back %s county-years after %s isolation builds: %s",
                        len(culprits), found.builds,
                        ", ".join(f"{builder.key_of[i][0]}/{builder.key_of[i][1]}"
                                  for i in sorted(culprits)))
        keep = everyone - frozenset(culprits)
        if last_ok != keep:
            result = builder.build(keep)
            if not result.ok:
                raise _build_failed(dsn, ctx, result)
    except isolation.WarehouseFailure as exc:
        builder.restore()
        raise _build_failed(dsn, ctx, exc.result) from None
    except BaseException:
        builder.restore()
        raise
    with psycopg.connect(dsn) as conn:
        builder.settle(conn, culprits, fingerprint)
    publish.publish(dsn, build_scope.fingerprint_comment(fingerprint))
    with psycopg.connect(dsn) as conn:
        build_scope.mark_published(conn, ctx.run_id, scope)
        conn.execute("UPDATE ops.runs SET dbt_status = 'success' WHERE run_id = %s",
                     (ctx.run_id,))
    if _docs_stale(ctx.settings.dbt_target):
        from edustat.transform import dbt_docs_generate

        dbt_docs_generate(dsn, ctx.settings.dbt_target)
    return {"dbt": "success", "elapsed_s": round(builder.elapsed, 1),
            "scope": scope.describe(), "builds": builder.builds, "held": len(culprits)}


class _MartsBuild:
    """One dbt build into marts_next with a chosen set of candidates included (the others
    held), as often as isolation needs; and what the statuses are when it is over."""

    def __init__(self, ctx: RunContext, scope: build_scope.BuildScope,
                 dbt_vars: dict[str, Any], candidates: list[isolation.Candidate]) -> None:
        self.ctx = ctx
        self.scope = scope
        self.dbt_vars = dbt_vars
        self.candidates = candidates
        self.key_of = {c.submission_id: (c.county_code, c.school_year) for c in candidates}
        self.builds = 0
        self.elapsed = 0.0

    def build(self, included: frozenset[int]) -> Any:
        from edustat.transform import FailedNode, dbt_build

        dsn = self.ctx.dsn()
        self._set_statuses({c.submission_id: "accepted" if c.submission_id in included
                            else "held" for c in self.candidates})
        if self.scope.full:
            publish.drop_next(dsn)
        else:
            publish.clone_to_next(dsn)
        scope_var = self.scope.dbt_var()
        server_started = _server_started(dsn)
        result = dbt_build(
            dsn, self.ctx.settings.dbt_target,
            vars=self.dbt_vars | {"marts_schema": publish.NEXT}
            | ({"build_scope": scope_var} if scope_var is not None else {}),
            full_refresh=self.scope.full,
            # Seeds are part of the fingerprint: unchanged since the last build when
            # incremental.
            exclude=None if self.scope.full else "resource_type:seed")
        self.builds += 1
        self.elapsed += result.elapsed
        if not result.ok and _server_started(dsn) != server_started:
            # Whatever dbt said, the warehouse restarted under it: not the data's fault.
            result = dataclasses.replace(result, failed=(*result.failed, FailedNode(
                "warehouse", "warehouse", "invocation", "error",
                "the warehouse restarted during the build")))
        return result

    def _set_statuses(self, statuses: dict[int, str]) -> None:
        if not statuses:
            return
        with psycopg.connect(self.ctx.dsn()) as conn:
            conn.execute(
                """UPDATE ops.submissions s SET status = v.status
                   FROM unnest(%s::bigint[], %s::text[]) AS v(id, status)
                   WHERE s.submission_id = v.id AND s.status IS DISTINCT FROM v.status""",
                (list(statuses), list(statuses.values())))

    def restore(self) -> None:
        """The statuses as found: the next night takes the same candidates up again. Best
        effort: when the warehouse is gone, the next night's candidates are the same anyway
        (a temporarily held file is still unpublished)."""
        try:
            self._set_statuses({c.submission_id: c.status for c in self.candidates})
        except psycopg.Error as exc:
            log.warning("could not restore the candidates' statuses: %s", exc)

    def settle(self, conn: psycopg.Connection, culprits: dict[int, Any], fingerprint: str
               ) -> None:
        """Final statuses, committed before the marts that reflect them are published."""
        for c in self.candidates:
            if c.submission_id in culprits:
                conn.execute(
                    """UPDATE ops.submissions SET status = 'held', held_reason = %s,
                           held_run_id = %s, held_fingerprint = %s WHERE submission_id = %s""",
                    (isolation.failure_text(culprits[c.submission_id]), self.ctx.run_id,
                     fingerprint, c.submission_id))
            else:
                conn.execute(
                    """UPDATE ops.submissions SET status = 'accepted', held_reason = NULL,
                           held_run_id = NULL, held_fingerprint = NULL
                       WHERE submission_id = %s""", (c.submission_id,))


def _server_started(dsn: str, wait_seconds: float = 60.0) -> Any:
    """When the warehouse server started (None when it does not answer within the wait): a
    different value after a failed build means it restarted during it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=5) as conn:
                return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        except psycopg.OperationalError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(1)


def _build_failed(dsn: str, ctx: RunContext, result: Any) -> RuntimeError:
    try:
        _set_run(dsn, ctx.run_id, dbt_status="failed")
    except psycopg.Error as exc:  # the warehouse may be what failed: the line still goes out
        log.warning("could not record the failed build: %s", exc)
    if isolation.platform_failure(result):
        return _warehouse_failed(isolation.failure_text(result))
    # marts_next stays for the engineer to inspect; yesterday's marts keep serving.
    return RuntimeError(f"dbt build failed: {result.summary()}")


def _warehouse_failed(detail: str) -> RuntimeError:
    return RuntimeError(
        "dbt 构建因运行环境故障（数据仓库连接中断、磁盘已满等）而非数据问题未完成，昨日的 marts "
        "继续服务，下次运行会重建 / the dbt build did not finish because of the platform, not "
        "the data (warehouse connection lost, disk full, ...); yesterday's marts keep serving "
        f"and the next run rebuilds: {detail}")


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
    (ops.runs.alerts_failed), never a failure of the run.

    The notices announce every decision no finished night has announced yet: this run's, and
    those of a night that crashed before its notices went out. Only a run that got as far as
    deciding claims them (a run refused at the door has nothing to say about others).
    """
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
    if "decide" in done:
        with nightlock.night(dsn, ctx.run_id, "finalize", _NIGHT_WAIT_SECONDS), \
                psycopg.connect(dsn) as conn:
            _claim_announcements(conn, ctx.run_id)
    with psycopg.connect(dsn) as conn:
        warnings = conn.execute(
            "SELECT coalesce(sum(warnings), 0) FROM ops.submissions WHERE decided_run_id = %s",
            (ctx.run_id,)).fetchone()[0]
        conn.execute(
            """UPDATE ops.runs SET status = %s, finished_at = clock_timestamp(), warnings = %s,
                   message = %s WHERE run_id = %s""",
            (status, warnings, ", ".join(failed_tasks) or None, ctx.run_id),
        )
    notices = notify_night(ctx.settings, dsn, ctx.run_id)
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE ops.runs SET digest_at = clock_timestamp() WHERE run_id = %s",
                     (ctx.run_id,))
    return {"status": status, "failed_steps": failed_tasks, "digest": notices.digest,
            "notices_sent": notices.sent, "alerts_failed": notices.failed}


def _claim_announcements(conn: psycopg.Connection, run_id: str) -> int:
    """Decisions this run's digest announces: unannounced ones, and those claimed by a run
    whose digest never went out (it crashed in between)."""
    return conn.execute(
        """UPDATE ops.submissions SET announced_run_id = %s
           WHERE status IN ('accepted', 'rejected', 'held') AND decided_run_id IS NOT NULL
             AND (announced_run_id IS NULL OR announced_run_id IN (
                 SELECT run_id FROM ops.runs WHERE digest_at IS NULL AND run_id <> %s))""",
        (run_id, run_id)).rowcount
