"""A failing mart test fails the night, and yesterday's marts keep serving (issue: validation).

Protects: dbt swapping a table in before its tests ran, so a ministry would read marts that
failed their own checks; marts published one by one instead of together.
The fault is one dbt cannot see at intake: two counties reporting the same school code
(each file is valid alone; the mart's unique grain is broken).
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat import pipeline
from edustat.columns import COLUMNS
from edustat.config import Settings, load_settings
from edustat_synth.generate import generate


def _fingerprint(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'")]
        return {t: hashlib.sha256("\n".join(sorted(
            r[0] for r in conn.execute(f'SELECT t::text FROM marts."{t}" t'))).encode()).hexdigest()
            for t in tables}


def _night(settings: Settings, landing: Path, run_id: str, day: int) -> pipeline.RunContext:
    ctx = pipeline.RunContext(run_id=run_id, logical_date=datetime(2026, 4, day, tzinfo=UTC),
                              landing=landing, settings=settings)
    for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                  pipeline.decide):
        stage(ctx)
    return ctx


def test_failing_mart_test_keeps_yesterdays_marts(warehouse: str, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    summary = generate("63", [2025], landing, seed=5, counties=2)
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path / "home"),
                              "EDUSTAT_WAREHOUSE_DSN": warehouse})
    pipeline.build_marts(_night(settings, landing, "n1", 1))
    before = _fingerprint(warehouse)
    assert before and "school_indicators" in before

    # County B resubmits with county A's school codes: valid alone, a duplicate grain in marts.
    a, b = summary.counties
    keys = [c.key for c in COLUMNS]
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            f"""SELECT {", ".join("r." + k for k in keys)} FROM raw.school_rows r
                JOIN ops.submissions s
                USING (submission_id) WHERE s.county_code = %s AND s.status = 'accepted'
                ORDER BY row_number""", (a,)).fetchall()
    with (landing / b / "重报.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in COLUMNS])
        for row in rows:
            writer.writerow([b if k == "county_code" else v for k, v in zip(keys, row,
                                                                            strict=True)])
    ctx = _night(settings, landing, "n2", 2)
    with psycopg.connect(warehouse) as conn:
        status = conn.execute("SELECT status FROM ops.submissions WHERE file_name = '重报.csv'"
                              ).fetchone()
    assert status == ("accepted",)
    with pytest.raises(RuntimeError, match="dbt build failed"):
        pipeline.build_marts(ctx)
    assert _fingerprint(warehouse) == before
    with psycopg.connect(warehouse) as conn:
        dbt_status = conn.execute("SELECT dbt_status FROM ops.runs WHERE run_id = 'n2'"
                                  ).fetchone()[0]
        kept = conn.execute("SELECT to_regclass('marts_next.school_indicators') IS NOT NULL"
                            ).fetchone()[0]
    assert dbt_status == "failed"
    assert kept  # the failed build stays aside for the engineer to inspect
