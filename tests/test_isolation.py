"""Holding back only what breaks the marts build, and publishing nothing but the marts.

Protects (issue: reliability, items 2 and 5): the isolation search holding the wrong
county-years, or any county for a failure that is the warehouse's (connection lost, disk
full) or the project's (nothing builds even with every candidate held); a stray object left in
`marts_next` by a killed dbt (`__dbt_backup`, `__dbt_tmp`) or a removed model being published
where ministry_reader can read it.
The search runs against a recorded build outcome (which sets of candidates build and which
fail); the real builds of a held county are in test_dbt_incremental.py (dbt) and
test_night_faults.py (the DAG through Airflow).
"""

from __future__ import annotations

import psycopg
import pytest

from edustat.transform import DbtResult, FailedNode
from edustat.warehouse import isolation, publish


def test_only_mart_models_are_published(warehouse: str) -> None:
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA marts_next")
        for table in ("school_indicators", "school_indicators__dbt_backup",
                      "region_summary__dbt_tmp", "retired_model"):
            conn.execute(f'CREATE TABLE marts_next."{table}" (x int)')
        conn.execute("CREATE VIEW marts_next.stray_view AS SELECT 1 AS x")
    publish.publish(warehouse)
    with psycopg.connect(warehouse) as conn:
        published = {r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'marts' AND c.relkind IN ('r', 'v')")}
        readable = conn.execute(
            "SELECT has_schema_privilege('ministry_reader', 'marts', 'USAGE')").fetchone()[0]
    assert published == {"school_indicators"}
    assert readable
    assert "school_indicators" in publish.mart_models()


def test_candidates_survive_a_crash_and_holds_wait_for_a_new_project(warehouse: str) -> None:
    """After a night killed during isolation (files left 'held' for a trial build), the next
    night takes the same candidates up; a hold is retried when the dbt project changes."""
    from edustat.warehouse import build_scope
    from fixtures.dbt.sample_province import A, B, C, county_a, county_b, county_c
    from fixtures.dbt.warehouse_rows import WarehouseWriter

    published = WarehouseWriter(warehouse, "n1")
    old = published.submit(A, 2023, county_a(2023))
    with psycopg.connect(warehouse) as conn:
        conn.execute("UPDATE ops.runs SET dbt_status = 'success' WHERE run_id = 'n1'")
    crashed = WarehouseWriter(warehouse, "n2")
    trial_held = crashed.submit(B, 2023, county_b(2023))
    included = crashed.submit(C, 2023, county_c())
    with psycopg.connect(warehouse) as conn:
        conn.execute("UPDATE ops.submissions SET status = 'held' WHERE submission_id = %s",
                     (trial_held,))
        found = {c.submission_id: c.status for c in isolation.candidates(conn, "fp-1")}
    assert found == {trial_held: "held", included: "accepted"}

    # The night after publishes them (B held for good on fp-1, C accepted): no longer pending.
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "UPDATE ops.submissions SET held_fingerprint = 'fp-1', held_reason = 'dbt said'"
            " WHERE submission_id = %s", (trial_held,))
        build_scope.mark_published(conn, "n3", build_scope.plan(conn, "fp-1"))
        assert isolation.candidates(conn, "fp-1") == []
        # Another project: the hold is tried again; A (published, never held) is not.
        retried = [c.submission_id for c in isolation.candidates(conn, "fp-2")]
    assert retried == [trial_held] and old not in retried


def _result(ok: bool, message: str = "Got 2 results, configured to fail if != 0") -> DbtResult:
    failed = () if ok else (FailedNode("test.edustat.unique_x.1", "unique_x", "test", "fail",
                                       message, 2),)
    return DbtResult(ok=ok, returncode=0 if ok else 1, elapsed=0.0, failed=failed)


class _Outcome:
    """A build's outcome as a function of the candidates it includes (which sets fail)."""

    def __init__(self, breaks: list[set[int]], platform_on: int | None = None) -> None:
        self.breaks = breaks
        self.platform_on = platform_on
        self.calls: list[frozenset[int]] = []

    def __call__(self, included: frozenset[int]) -> DbtResult:
        self.calls.append(included)
        if self.platform_on is not None and len(self.calls) == self.platform_on:
            return _result(False, "connection to server at 127.0.0.1 failed: Connection refused")
        return _result(not any(b <= included for b in self.breaks))


@pytest.mark.parametrize(("breaks", "culprits"), [
    ([{7}], {7}),
    ([{2}, {13}], {2, 13}),
    # Two files that clash only together: the second one found is held, the first published.
    ([{4, 11}], {11}),
    ([set(range(16))], {15}),
])
def test_isolation_holds_exactly_the_breaking_county_years(breaks: list[set[int]],
                                                          culprits: set[int]) -> None:
    outcome = _Outcome(breaks)
    candidates = list(range(16))
    found = isolation.isolate(outcome, candidates, outcome(frozenset(candidates)))
    assert found is not None and set(found.culprits) == culprits
    # Everything else builds together: the night publishes all but the culprits.
    assert outcome(frozenset(candidates) - culprits).ok
    assert found.builds <= 2 + 2 * len(culprits) * 4  # about 2·k·log2(16) trial builds


def test_a_failure_without_any_candidate_or_of_the_warehouse_holds_nobody() -> None:
    everything_fails = _Outcome([set()])
    assert isolation.isolate(everything_fails, [1, 2, 3], _result(False)) is None
    lost = _Outcome([{2}], platform_on=3)
    with pytest.raises(isolation.WarehouseFailure, match="Connection refused"):
        isolation.isolate(lost, [1, 2, 3], _result(False))
    assert isolation.platform_failure(_result(False, "could not write to file: No space left"))
    assert not isolation.platform_failure(_result(False, "integer out of range"))
