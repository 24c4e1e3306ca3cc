"""What the ops tables say about one run: its decisions and their failing checks.

Reads ops.runs, ops.submissions, ops.validation_results and raw.school_rows only, so it works
before dbt has built any mart. Aggregation happens in SQL: a national run can carry hundreds of
thousands of row-level findings, and a message needs a count and a few examples per check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

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
class FileFacts:
    """What is said of every decided file, in the facts and in the notices' views alike."""

    submission_id: int
    county_code: str
    school_year: int | None
    file_name: str
    status: str  # accepted | rejected | held
    errors: int
    warnings: int
    schools: int | None  # distinct school codes in the file (accepted and held files)
    held_reason: str | None
    replaced_submission_id: int | None


@dataclass(frozen=True)
class Decision(FileFacts):
    """A submission decided in this run: accepted, rejected, or held after the marts build."""

    rejection_reason: str | None
    report_path: str | None
    checks: tuple[CheckSummary, ...]  # critical first, then by count, largest first

    @property
    def has_warnings(self) -> bool:
        return self.warnings > 0 or any(c.severity == "warning" for c in self.checks)


@dataclass(frozen=True)
class RunFacts:
    run_id: str
    logical_date: datetime | None  # None when ops.runs has no such run
    run_status: str | None
    run_message: str | None
    decisions: tuple[Decision, ...]
    duplicates: dict[str, int]  # county code -> duplicate files received in this run

    def with_status(self, *statuses: str) -> list[Decision]:
        return [d for d in self.decisions if d.status in statuses]

    @property
    def accepted(self) -> list[Decision]:
        return self.with_status("accepted")

    @property
    def rejected(self) -> list[Decision]:
        return self.with_status("rejected")

    @property
    def held(self) -> list[Decision]:
        return self.with_status("held")

    @property
    def accepted_with_warnings(self) -> list[Decision]:
        return [d for d in self.accepted if d.has_warnings]


_RUN_SQL = "SELECT logical_date, status, message FROM ops.runs WHERE run_id = %(run)s"

_DECISIONS_SQL = """
SELECT s.submission_id, s.county_code, s.school_year, s.file_name, s.status, s.errors,
       s.warnings, s.rejection_reason, s.held_reason, s.report_path,
       s.replaced_submission_id
FROM ops.submissions s
-- Decisions this night announces: its own, and those of a night that crashed before its
-- notices went out (claimed by edustat.pipeline.finalize through announced_run_id).
WHERE (s.announced_run_id = %(run)s
       OR (s.announced_run_id IS NULL AND s.decided_run_id = %(run)s))
  AND s.status IN ('accepted', 'rejected', 'held')
ORDER BY s.county_code, s.school_year NULLS FIRST, s.submission_id
"""

_DUPLICATES_SQL = """
SELECT county_code, count(*)::integer FROM ops.submissions
WHERE run_id = %(run)s AND status = 'duplicate' GROUP BY county_code
"""

_SCHOOLS_SQL = """
SELECT submission_id, count(DISTINCT school_code)::integer FROM raw.school_rows
WHERE submission_id = ANY(%(ids)s) GROUP BY submission_id
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


def load_run_facts(conn: psycopg.Connection, run_id: str) -> RunFacts:
    run = conn.execute(_RUN_SQL, {"run": run_id}).fetchone()
    logical_date, run_status, run_message = run if run else (None, None, None)
    rows = conn.execute(_DECISIONS_SQL, {"run": run_id}).fetchall()
    duplicates = dict(conn.execute(_DUPLICATES_SQL, {"run": run_id}).fetchall())
    ids = [r[0] for r in rows]
    checks = _load_checks(conn, run_id, ids)
    valid = [r[0] for r in rows if r[4] in ("accepted", "held")]
    schools = dict(conn.execute(_SCHOOLS_SQL, {"ids": valid}).fetchall()) if valid else {}
    decisions = tuple(
        Decision(
            submission_id=r[0], county_code=r[1], school_year=r[2], file_name=r[3],
            status=r[4], errors=r[5], warnings=r[6], rejection_reason=r[7], held_reason=r[8],
            report_path=r[9], replaced_submission_id=r[10], schools=schools.get(r[0]),
            checks=tuple(checks.get(r[0], ())),
        )
        for r in rows
    )
    return RunFacts(run_id, logical_date, run_status, run_message, decisions, duplicates)


def _load_checks(conn: psycopg.Connection, run_id: str, ids: list[int]
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
