"""A county's accepted rows out of the warehouse, and a CSV of rows as a county would send it.

Resubmissions in the tests start from what the platform holds for the county (its newest
accepted file, as raw text) and change what the test is about.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from edustat.columns import COLUMNS
from support.landing import settle

KEYS = [c.key for c in COLUMNS]


def accepted_rows(dsn: str, county: str) -> list[dict]:
    """The school rows of the county's newest accepted file, as text."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"""SELECT {", ".join("r." + k for k in KEYS)} FROM raw.school_rows r
                JOIN (SELECT submission_id FROM ops.submissions WHERE county_code = %s
                      AND status = 'accepted' ORDER BY received_at DESC, submission_id DESC
                      LIMIT 1) s USING (submission_id) ORDER BY row_number""",
            (county,)).fetchall()
    return [dict(zip(KEYS, row, strict=True)) for row in rows]


def write_csv(path: Path | bytes, rows: list[dict], *, settled: bool = True) -> Path:
    """A UTF-8 CSV with the form's header; dated a day ago unless `settled` is False."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in COLUMNS])
        for row in rows:
            writer.writerow([row[k] or "" for k in KEYS])
    path = Path(os.fsdecode(path))
    return settle(path, datetime.now(UTC)) if settled else path
