"""One night of intake with good, hostile and misplaced files side by side (no scheduler).

Protects: one county's bad file costing another county anything; a hostile file crashing the
run instead of being rejected with a reason; a file in the wrong county folder being taken in;
rejected files staying in landing without a report; `edustat status` forgetting counties that
sent nothing; year-over-year warnings not reaching ops.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat import pipeline
from edustat.config import load_settings
from edustat.summary import status_rows
from edustat.validation import history
from edustat_synth.generate import generate
from support.landing import land, settle

CORPUS = Path(__file__).parent / "corpus" / "hostile"
HOSTILE = {
    "zip_bomb_ratio.xlsx": "zip_bomb",
    "encrypted.xlsx": "encrypted_workbook",
    "truncated.xlsx": "corrupt_workbook",
    "formulas.xlsx": "formula_cell",
    "no_header.csv": "no_header_row",
    "empty.csv": "empty_file",
}


@pytest.fixture
def night(warehouse: str, tmp_path: Path) -> dict:
    landing = tmp_path / "landing"
    summary = generate("63", [2024, 2025], landing, seed=3, counties=4)
    counties = summary.counties
    # Hostile files land in a fifth county's folder; a good file sits in the wrong folder.
    hostile_county = "632857" if "632857" not in counties else "632801"
    for name in HOSTILE:
        land(CORPUS / name, landing / hostile_county / f"攻击 ..{name}", NIGHTS[0])
    misplaced = next(p for p in summary.files if "2025" in p.name and counties[0] in str(p))
    land(misplaced, landing / "630000" / misplaced.name, NIGHTS[0])
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path / "home"),
                              "EDUSTAT_WAREHOUSE_DSN": warehouse,
                              "EDUSTAT_JURISDICTION": "63"})
    return {"settings": settings, "landing": landing, "summary": summary,
            "hostile_county": hostile_county, "dsn": warehouse}


NIGHTS = [datetime(2026, 3, day, tzinfo=UTC) for day in (1, 2)]


def _ctx(night: dict, run_id: str, day: int) -> pipeline.RunContext:
    return pipeline.RunContext(run_id=run_id, logical_date=NIGHTS[day - 1],
                               landing=night["landing"], settings=night["settings"])


def _intake(ctx: pipeline.RunContext) -> None:
    for stage in (pipeline.discover, pipeline.read_and_stage, pipeline.validate,
                  pipeline.decide):
        stage(ctx)


def test_bad_files_are_rejected_alone_and_good_ones_accepted(night: dict) -> None:
    _intake(_ctx(night, "night-1", 1))
    with psycopg.connect(night["dsn"]) as conn:
        subs = conn.execute(
            """SELECT county_code, file_name, status, report_path, quarantine_path
               FROM ops.submissions ORDER BY submission_id""").fetchall()
        checks = {r[0]: set(r[1]) for r in conn.execute(
            """SELECT s.file_name, array_agg(DISTINCT v.check_id) FROM ops.submissions s
               JOIN ops.validation_results v USING (submission_id)
               WHERE v.severity = 'critical' GROUP BY 1""")}
    good = [s for s in subs if s[0] in night["summary"].counties]
    assert len(good) == 8 and all(s[2] == "accepted" for s in good)
    hostile = {s[1]: s for s in subs if s[0] == night["hostile_county"]}
    assert len(hostile) == len(HOSTILE)
    for name, check in HOSTILE.items():
        file_name = f"攻击 ..{name}"
        assert hostile[file_name][2] == "rejected"
        assert check in checks[file_name], (name, checks[file_name])
        # The report is a page of the site; the file itself waits in quarantine.
        report = Path(hostile[file_name][3])
        assert report.exists() and night["settings"].reports / "rejections" in report.parents
        quarantine = Path(hostile[file_name][4])
        assert night["settings"].quarantine in quarantine.parents and any(quarantine.iterdir())
        with (report.parent / "rejection_report.csv").open(encoding="utf-8-sig") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
        assert not (night["landing"] / night["hostile_county"] / file_name).exists()
    wrong = next(s for s in subs if s[0] == "630000")
    assert wrong[2] == "rejected"
    assert "unknown_county_folder" in checks[wrong[1]]


def test_status_lists_missing_counties_and_yoy_warnings_reach_ops(night: dict) -> None:
    _intake(_ctx(night, "night-1", 1))
    rows = status_rows(night["settings"], night["dsn"])
    by_status: dict[str, set[str]] = {}
    for r in rows:
        by_status.setdefault(r.status, set()).add(r.county_code)
    # Jurisdiction 63: all 45 Qinghai counties are expected, each for both years; the stray
    # 630000 folder is listed for the one file it sent.
    assert len(rows) == 45 * 2 + 1
    assert by_status["accepted"] == set(night["summary"].counties)
    assert night["hostile_county"] in by_status["rejected"]
    # Unreadable files have no year: the hostile county may still be missing for a year.
    assert len(by_status["missing"] - {night["hostile_county"]}) == 45 - 4 - 1
    assert not by_status["missing"] & set(night["summary"].counties)

    # A 2026 file with enrolment doubled: accepted, with a year-over-year warning.
    county = night["summary"].counties[1]
    with psycopg.connect(night["dsn"]) as conn:
        sid = conn.execute(
            """SELECT submission_id FROM ops.submissions WHERE county_code = %s
               AND school_year = 2025 AND status = 'accepted'""", (county,)).fetchone()[0]
    settle(_write_doubled(night["dsn"], sid, night["landing"] / county / "2026.csv"),
           NIGHTS[1])
    _intake(_ctx(night, "night-2", 2))
    with psycopg.connect(night["dsn"]) as conn:
        status, warnings = conn.execute(
            """SELECT status, array_agg(DISTINCT v.check_id) FROM ops.submissions s
               JOIN ops.validation_results v USING (submission_id)
               WHERE s.file_name = '2026.csv' GROUP BY 1""").fetchone()
    assert status == "accepted"
    assert "enrolment_change" in warnings
    # The night totals every submission in one scan; `edustat check` one at a time: the same.
    with psycopg.connect(night["dsn"]) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT DISTINCT submission_id FROM raw.school_rows ORDER BY 1")]
        assert history._totals_of(conn, ids) == {i: history._totals(conn, i) for i in ids}


def _write_doubled(dsn: str, submission_id: int, path: Path) -> Path:
    import csv

    from edustat.columns import COLUMNS

    keys = [c.key for c in COLUMNS]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"SELECT {', '.join(keys)} FROM raw.school_rows"
                            " WHERE submission_id = %s ORDER BY row_number",
                            (submission_id,)).fetchall()
    doubled = {"primary_students", "junior_students", "senior_students"}
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in COLUMNS])
        for row in rows:
            values = dict(zip(keys, row, strict=True)) | {"school_year": "2026"}
            for key in doubled:
                values[key] = str(int(values[key]) * 3)
            writer.writerow([values[k] or "" for k in keys])
    return path
