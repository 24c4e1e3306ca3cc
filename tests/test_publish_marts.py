"""One county whose file breaks the marts build is held back; every other county is published.

Protects (issue: reliability, item 2): a file that passes validation but fails the marts build
(two counties reporting the same 学校标识码: each file valid alone, the mart's unique grain
broken) stopping the whole night, so another county's legitimate correction waits; the held
county-year losing its previous accepted file; a held county-year retried (and failing) every
night; a stray dbt object reaching `marts`; the isolation search holding the wrong county-years
(the search itself is exercised against a recorded build outcome: which sets of candidates
build and which fail).
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from edustat import pipeline
from edustat.columns import COLUMNS
from edustat.config import Settings, load_settings
from edustat.transform import DbtResult, FailedNode
from edustat.warehouse import isolation
from edustat_synth.generate import generate
from support.landing import settle

KEYS = [c.key for c in COLUMNS]


def _fingerprint(dsn: str, where: str = "") -> dict[str, str]:
    """Hashes of every county mart's rows (`where` on county_code)."""
    with psycopg.connect(dsn) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'marts'"
            " AND column_name = 'county_code'")]
        return {t: hashlib.sha256("\n".join(sorted(
            r[0] for r in conn.execute(f'SELECT t::text FROM marts."{t}" t {where}')
        )).encode()).hexdigest() for t in tables if t != "submission_status"}


def _night(settings: Settings, landing: Path, run_id: str, day: int) -> dict:
    ctx = pipeline.RunContext(run_id=run_id, logical_date=datetime(2026, 4, day, tzinfo=UTC),
                              landing=landing, settings=settings)
    for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                  pipeline.decide):
        stage(ctx)
    return pipeline.build_marts(ctx)


def _accepted_rows(dsn: str, county: str) -> list[dict]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"""SELECT {", ".join("r." + k for k in KEYS)} FROM raw.school_rows r
                JOIN ops.submissions s USING (submission_id)
                WHERE s.county_code = %s AND s.status = 'accepted' ORDER BY row_number""",
            (county,)).fetchall()
    return [dict(zip(KEYS, row, strict=True)) for row in rows]


def _write(path: Path, rows: list[dict], night: datetime) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in COLUMNS])
        for row in rows:
            writer.writerow([row[k] or "" for k in KEYS])
    settle(path, night)


def test_a_county_that_breaks_the_build_is_held_and_the_others_published(
        warehouse: str, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    summary = generate("63", [2025], landing, seed=5, counties=3)
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path / "home"),
                              "EDUSTAT_WAREHOUSE_DSN": warehouse})
    assert _night(settings, landing, "n1", 1)["dbt"] == "success"
    a, b, c = summary.counties
    before_b = _fingerprint(warehouse, f"WHERE county_code = '{b}'")
    assert before_b and "school_indicators" in before_b

    # B resubmits with A's school codes (valid alone, a duplicate grain in the marts);
    # C corrects the books of its first school (a legitimate correction).
    clash = [row | {"county_code": b} for row in _accepted_rows(warehouse, a)]
    _write(landing / b / "重报.csv", clash, datetime(2026, 4, 2, tzinfo=UTC))
    corrected = _accepted_rows(warehouse, c)
    fixed = next(r for r in corrected if r["senior_students"] == "0")  # all books in 义务教育
    fixed["books"] = str(int(fixed["books"]) + 1234)
    _write(landing / c / "更正.csv", corrected, datetime(2026, 4, 2, tzinfo=UTC))

    built = _night(settings, landing, "n2", 2)
    assert (built["dbt"], built["held"]) == ("success", 1), built
    with psycopg.connect(warehouse) as conn:
        statuses = dict(conn.execute(
            "SELECT file_name, status FROM ops.submissions WHERE run_id = 'n2'").fetchall())
        reason = conn.execute("SELECT held_reason FROM ops.submissions"
                              " WHERE file_name = '重报.csv'").fetchone()[0]
        served_b = conn.execute(
            "SELECT status, accepted_file_name FROM marts.submission_status"
            " WHERE county_code = %s", (b,)).fetchone()
        books = conn.execute(
            """SELECT sum(books_per_student * students) FROM marts.school_indicators
               WHERE school_code = %s""", (fixed["school_code"],)).fetchone()[0]
        strays = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'marts' AND c.relname LIKE '%%dbt%%'").fetchone()[0]
        c_rows = conn.execute("SELECT count(*) FROM marts.school_indicators"
                              " WHERE county_code = %s", (c,)).fetchone()[0]
    assert statuses == {"重报.csv": "held", "更正.csv": "accepted"}
    assert "unique_combination_school_indicators" in reason
    # B keeps what it had: its previous file serves, its mart rows did not move.
    assert served_b[0] == "held" and served_b[1] != "重报.csv"
    assert _fingerprint(warehouse, f"WHERE county_code = '{b}'") == before_b
    # C's correction is in the marts the same night.
    assert c_rows > 0
    assert abs(Decimal(books) - Decimal(fixed["books"])) < Decimal("1e-9")
    assert strays == 0

    # An unchanged project does not retry the hold: the next night has nothing to build.
    assert _night(settings, landing, "n3", 3) == {"dbt": "skipped"}


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
