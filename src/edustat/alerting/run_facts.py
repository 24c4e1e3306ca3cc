"""What the ops tables say about one run: decisions, their failing checks, late counties.

Reads ops.runs, ops.submissions and ops.validation_results only, so it works before dbt has
built any mart. Aggregation happens in SQL: a national run can carry hundreds of thousands of
row-level findings, and the digest needs a count and a few examples per check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from edustat.alerting.deadline import deadline_for, is_past_deadline

if TYPE_CHECKING:
    import psycopg

EXAMPLES_PER_CHECK = 3


@dataclass(frozen=True)
class Example:
    row_number: int | None
    value: str | None
    school_code: str | None


@dataclass(frozen=True)
class CheckSummary:
    check_id: str
    severity: str  # critical | warning
    column: str | None
    count: int  # sum of failing_count over the check's result rows
    examples: tuple[Example, ...]
    message_zh: str  # the message of the first failing row
    message_en: str


@dataclass(frozen=True)
class Decision:
    """A decision this run announces: accepted, rejected, or held (accepted by validation but
    held back because its county-year broke the marts build), made in this run or in a run
    that crashed before its digest (ops.submissions.announced_run_id)."""

    submission_id: int
    county_code: str
    school_year: int | None
    file_name: str
    status: str  # accepted | rejected | held
    errors: int
    warnings: int
    rejection_reason: str | None
    report_path: str | None
    replaced_submission_id: int | None
    checks: tuple[CheckSummary, ...]  # critical first, then by count, largest first
    held_reason: str | None = None  # held: the dbt error (engineers read it)


@dataclass(frozen=True)
class LateCounty:
    county_code: str
    school_year: int
    deadline: date
    # missing: nothing received; rejected_only: every file received was rejected
    state: Literal["missing", "rejected_only"]


@dataclass(frozen=True)
class RunFacts:
    run_id: str
    logical_date: datetime | None  # None when ops.runs has no such run
    run_status: str | None
    run_message: str | None
    decisions: tuple[Decision, ...]
    duplicates: int
    late: tuple[LateCounty, ...]
    # Why the late-county check could not run (bad deadline setting, unknown run), if it could not.
    late_check_problem: str | None = None

    @property
    def accepted(self) -> list[Decision]:
        return [d for d in self.decisions if d.status == "accepted"]

    @property
    def rejected(self) -> list[Decision]:
        return [d for d in self.decisions if d.status == "rejected"]

    @property
    def held(self) -> list[Decision]:
        return [d for d in self.decisions if d.status == "held"]

    @property
    def accepted_with_warnings(self) -> list[Decision]:
        return [
            d
            for d in self.accepted
            if d.warnings > 0 or any(c.severity == "warning" for c in d.checks)
        ]


_RUN_SQL = """
SELECT logical_date, status, message FROM ops.runs WHERE run_id = %(run)s
"""

# The decisions the run's closing step claimed for its digest, and its own not claimed by any.
_DECISIONS_SQL = """
SELECT submission_id, county_code, school_year, file_name, status, errors, warnings,
       rejection_reason, report_path, replaced_submission_id, held_reason
FROM ops.submissions
WHERE (announced_run_id = %(run)s OR (announced_run_id IS NULL AND decided_run_id = %(run)s))
  AND status IN ('accepted', 'rejected', 'held')
ORDER BY county_code, school_year NULLS FIRST, submission_id
"""

_DUPLICATES_SQL = """
SELECT count(*) FROM ops.submissions WHERE run_id = %(run)s AND status = 'duplicate'
"""

# A submission validated again in a later run would otherwise count twice: keep the results of
# this run when it wrote any for the submission, else whatever exists.
_CHECKS_SQL = """
SELECT v.submission_id, v.check_id, v.severity, v.column_name,
       sum(v.failing_count)::bigint AS failing,
       (array_agg(v.row_number ORDER BY v.row_number NULLS FIRST))[1:%(n)s] AS rows,
       (array_agg(v.value ORDER BY v.row_number NULLS FIRST))[1:%(n)s] AS vals,
       (array_agg(v.school_code ORDER BY v.row_number NULLS FIRST))[1:%(n)s] AS schools,
       (array_agg(v.message_zh ORDER BY v.row_number NULLS FIRST))[1] AS message_zh,
       (array_agg(v.message_en ORDER BY v.row_number NULLS FIRST))[1] AS message_en
FROM ops.validation_results v
WHERE v.submission_id = ANY(%(ids)s)
  AND (v.run_id = %(run)s OR NOT EXISTS (
        SELECT 1 FROM ops.validation_results t
        WHERE t.submission_id = v.submission_id AND t.run_id = %(run)s))
GROUP BY v.submission_id, v.check_id, v.severity, v.column_name
ORDER BY v.submission_id, (v.severity = 'critical') DESC, failing DESC, v.check_id
"""

# What each expected county has for the late years. A file without a year is either not
# decided yet (it may be the missing one: not late) or unreadable (the county tried: it
# counts as a rejected attempt for every late year). A held file is the county's valid
# submission, held back by the platform: not late.
_RECEIVED_SQL = """
SELECT county_code, school_year,
       bool_or(status IN ('accepted', 'received', 'held')) AS has_live,
       bool_or(status = 'rejected') AS has_rejected
FROM ops.submissions
WHERE county_code = ANY(%(counties)s)
  AND (school_year = ANY(%(years)s) OR school_year IS NULL)
  AND status <> 'duplicate'
GROUP BY county_code, school_year
"""


def load_run_facts(
    dsn: str,
    run_id: str,
    expected_counties: Sequence[str],
    years: Sequence[int],
    missing_deadline: str,
) -> RunFacts:
    # Imported here: the DAG file imports the failure callback, and parsing must stay cheap.
    import psycopg

    with psycopg.connect(dsn) as conn:
        run = conn.execute(_RUN_SQL, {"run": run_id}).fetchone()
        logical_date, run_status, run_message = run if run else (None, None, None)
        rows = conn.execute(_DECISIONS_SQL, {"run": run_id}).fetchall()
        duplicates = conn.execute(_DUPLICATES_SQL, {"run": run_id}).fetchone()[0]
        checks = _load_checks(conn, run_id, [r[0] for r in rows])
        late, problem = _late_counties(
            conn, logical_date, expected_counties, years, missing_deadline
        )
    if run is None:
        problem = f"ops.runs 中没有运行 {run_id} / run {run_id} is not in ops.runs"
    decisions = tuple(
        Decision(
            submission_id=r[0],
            county_code=r[1],
            school_year=r[2],
            file_name=r[3],
            status=r[4],
            errors=r[5],
            warnings=r[6],
            rejection_reason=r[7],
            report_path=r[8],
            replaced_submission_id=r[9],
            checks=tuple(checks.get(r[0], ())),
            held_reason=r[10],
        )
        for r in rows
    )
    return RunFacts(
        run_id=run_id,
        logical_date=logical_date,
        run_status=run_status,
        run_message=run_message,
        decisions=decisions,
        duplicates=int(duplicates),
        late=tuple(late),
        late_check_problem=problem,
    )


def _load_checks(
    conn: psycopg.Connection, run_id: str, ids: list[int]
) -> dict[int, list[CheckSummary]]:
    by_submission: dict[int, list[CheckSummary]] = {}
    if not ids:
        return by_submission
    params = {"ids": ids, "run": run_id, "n": EXAMPLES_PER_CHECK}
    for sid, check_id, severity, column, failing, rws, vals, schools, zh, en in conn.execute(
        _CHECKS_SQL, params
    ):
        examples = tuple(
            Example(row, value, school)
            for row, value, school in zip(rws, vals, schools, strict=True)
        )
        by_submission.setdefault(sid, []).append(
            CheckSummary(check_id, severity, column, int(failing), examples, zh, en)
        )
    return by_submission


def _late_counties(
    conn: psycopg.Connection,
    logical_date: datetime | None,
    expected_counties: Sequence[str],
    years: Sequence[int],
    missing_deadline: str,
) -> tuple[list[LateCounty], str | None]:
    if logical_date is None or not expected_counties or not years:
        return [], None
    try:
        late_years = sorted(
            {y for y in years if is_past_deadline(y, missing_deadline, logical_date)}
        )
    except ValueError as exc:
        return [], (
            f"EDUSTAT_MISSING_DEADLINE 设置无效，未检查逾期县区 / invalid setting, "
            f"late counties not checked: {exc}"
        )
    if not late_years:
        return [], None
    counties = sorted(set(expected_counties))
    received: dict[tuple[str, int | None], tuple[bool, bool]] = {
        (county, year): (live, rejected)
        for county, year, live, rejected in conn.execute(
            _RECEIVED_SQL, {"counties": counties, "years": late_years}
        )
    }
    late: list[LateCounty] = []
    for year in late_years:
        deadline = deadline_for(year, missing_deadline)
        for county in counties:
            live, rejected = received.get((county, year), (False, False))
            # Year unknown: still undecided (it may be this year's file) or unreadable.
            undecided, unreadable = received.get((county, None), (False, False))
            if live or undecided:
                continue
            state = "rejected_only" if rejected or unreadable else "missing"
            late.append(LateCounty(county, year, deadline, state))
    return late, None
