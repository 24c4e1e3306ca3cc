"""When the marts build fails: find the county-years that break it and hold only those back.

Validation's bounds keep every accepted value buildable, but a file can still break the marts
in ways no single file shows (two counties sending the same 学校标识码, a model bug only one
county's data reaches). One such county must not stop the nation: the night finds the
*candidates* that break the build and holds them (ops.submissions.status = 'held', the dbt
error in held_reason); every other county is published the same night and the county's
previous accepted file, if any, keeps serving.

Candidates are the newest accepted (or held) file of each county-year that the published
marts do not reflect yet, plus held files whose hold was decided on another dbt project. A
trial build includes a set of candidates (status 'accepted') and leaves the others out (status
'held': int_submissions_current serves the previous accepted file); the scope of every trial
is the night's scope, so each one rebuilds every candidate's county-year either way.

    build(all)             fails  ->  build(none)   fails: not the data: the night fails
                                                     passes: bisect the candidates

Bisection (delta debugging): a half that builds with the known-good ones is good; a half that
fails is split again down to single county-years. k culprits among n cost about
2·k·log2(n) builds. A failure that is the warehouse's, not the data's (connection lost, disk
full), stops the search: nothing is held for it.

A hold is retried when the county sends a new file for the year (the new file is a candidate
of its own) or when the dbt project changes (the fingerprint the hold was decided on is no
longer the published one) — never again on an unchanged project, so a held county does not
fail every night.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from edustat.transform import DbtResult

log = logging.getLogger(__name__)

# dbt messages that say the warehouse, not a model, failed: never a reason to hold a county.
_PLATFORM_MARKERS = (
    "could not connect", "connection to server", "server closed the connection",
    "terminating connection", "connection refused", "the database system is",
    "no connection to the server", "connection already closed", "could not receive data",
    "could not send data", "ssl syscall", "no space left on device", "disk quota exceeded",
    "could not extend file", "could not write", "too many connections", "out of memory",
    "deadlock detected", "canceling statement due to", "lock timeout",
)
_REASON_CHARS = 1000


@dataclass(frozen=True)
class Candidate:
    submission_id: int
    county_code: str
    school_year: int
    status: str  # as found: accepted (new) or held (a hold to retry)


class WarehouseFailure(RuntimeError):
    """The build failed for a reason of the warehouse (connection, disk), not of the data."""

    def __init__(self, result: DbtResult) -> None:
        super().__init__(failure_text(result))
        self.result = result


def candidates(conn: psycopg.Connection, fingerprint: str) -> list[Candidate]:
    """The newest accepted or held file of each county-year, where it is pending (as
    build_scope counts it) or held on another dbt project than `fingerprint`."""
    rows = conn.execute(
        """SELECT DISTINCT ON (s.county_code, s.school_year)
                  s.submission_id, s.county_code, s.school_year, s.status,
                  s.published_run_id IS NULL AND r.dbt_status IS DISTINCT FROM 'success',
                  s.held_fingerprint
           FROM ops.submissions s
           LEFT JOIN ops.runs r ON r.run_id = s.decided_run_id
           WHERE s.status IN ('accepted', 'held') AND s.school_year IS NOT NULL
           ORDER BY s.county_code, s.school_year, s.received_at DESC, s.submission_id DESC"""
    ).fetchall()
    return [Candidate(int(sid), str(county), int(year), status)
            for sid, county, year, status, pending, held_on in rows
            if pending or (held_on is not None and held_on != fingerprint)]


def platform_failure(result: DbtResult) -> bool:
    """The failure is the warehouse's (or dbt could not run at all)."""
    if any(node.resource_type == "invocation" for node in result.failed):
        return True
    text = " ".join(node.message for node in result.failed).lower()
    return any(marker in text for marker in _PLATFORM_MARKERS)


def failure_text(result: DbtResult) -> str:
    """dbt's words for why the trial that included the county-year failed (engineers read it)."""
    parts = []
    for node in result.failed[:3]:
        first = next((line.strip() for line in node.message.splitlines() if line.strip()), "")
        rows = f" ({node.failures} rows)" if node.failures else ""
        parts.append(f"{node.resource_type} {node.name} {node.status}{rows}: {first}".strip())
    more = len(result.failed) - 3
    if more > 0:
        parts.append(f"{more} more")
    return "; ".join(parts)[:_REASON_CHARS] or result.summary()


Trial = Callable[[frozenset[int]], DbtResult]


@dataclass
class Isolation:
    """The outcome: culprits (submission id -> the failing build that convicted it)."""

    culprits: dict[int, DbtResult]
    builds: int
    last_included: frozenset[int] | None  # what the last build included, if it passed


def isolate(trial: Trial, ids: list[int], first_failure: DbtResult) -> Isolation | None:
    """The candidates (`ids`) that break the build, given that including all of them failed
    with `first_failure`. None when the build fails with none of them: not the data's fault.

    `trial(included)` builds with exactly those candidates included. Raises WarehouseFailure
    when a trial fails for the warehouse's reasons.
    """
    state = _Search(trial)
    if not state.build(frozenset()).ok:
        return None
    culprits = state.bisect(list(ids), frozenset(), first_failure)
    return Isolation(culprits, state.builds, state.last_ok)


class _Search:
    def __init__(self, trial: Trial) -> None:
        self.trial = trial
        self.builds = 0
        self.last_ok: frozenset[int] | None = None

    def build(self, included: frozenset[int]) -> DbtResult:
        self.builds += 1
        result = self.trial(included)
        if not result.ok and platform_failure(result):
            raise WarehouseFailure(result)
        self.last_ok = included if result.ok else None
        log.info("isolation build %s with %s candidates: %s", self.builds, len(included),
                 "ok" if result.ok else "failed")
        return result

    def bisect(self, ids: list[int], good: frozenset[int], failing: DbtResult | None
               ) -> dict[int, DbtResult]:
        """Culprits among `ids`, building with `good` (known to build) always included;
        `failing`: the result of building good + ids when already known to fail."""
        if failing is None:
            result = self.build(good | frozenset(ids))
            if result.ok:
                return {}
            failing = result
        if len(ids) == 1:
            return {ids[0]: failing}
        half = len(ids) // 2
        left, right = ids[:half], ids[half:]
        bad_left = self.bisect(left, good, None)
        good_now = good | frozenset(i for i in left if i not in bad_left)
        # With no culprit on the left, good_now + right is exactly the set that failed.
        bad_right = self.bisect(right, good_now, None if bad_left else failing)
        return bad_left | bad_right
