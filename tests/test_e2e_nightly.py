"""The real night, end to end: `edustat run` → Airflow runs the DAG → GX → dbt → reports → alert.

Protects the platform's promises as a county and a ministry see them:
- good files accepted with the right values (marts equal an independent computation),
  faulty files rejected whole with a report naming row, column, rule and value;
- the same night twice changes nothing; the same bytes twice are one submission;
- a resubmission replaces its (county, year) only, and a bad resubmission costs nothing
  that was already accepted; other counties and years are untouched;
- the digest reaches a real HTTP receiver and names the rejected county;
- what the night publishes is a site: region_summary says how many of the province's counties
  stand behind each figure, rejection reports are pages of the site beside the reports, every
  scorecard has its A4 PDF, and nothing the night generated (site, digest) holds a file:// URL.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from edustat_synth.generate import generate
from support.databases import fresh_database
from support.landing import land, settle
from support.marts_check import assert_cvs_match, fingerprint
from support.receiver import json_receiver

pytestmark = pytest.mark.e2e

EDUSTAT = str(Path(sys.executable).parent / "edustat")
YEARS = [2024, 2025]
COUNTIES = 8


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, list[dict]]]:
    with json_receiver() as (url, received):
        yield url, received


@pytest.fixture(scope="module")
def night(pg_server: str, tmp_path_factory: pytest.TempPathFactory,
          receiver: tuple[str, list[dict]]) -> Iterator[dict]:
    home = tmp_path_factory.mktemp("home")
    landing = home / "landing"
    # Eight of Qinghai's 45 counties: enough for every path, small enough for CI.
    summary = generate("63", YEARS, landing, seed=11, faulty=2, counties=COUNTIES)
    with fresh_database(pg_server, "edustat_e2e") as dsn:
        env = dict(os.environ, EDUSTAT_HOME=str(home), EDUSTAT_WAREHOUSE_DSN=dsn,
                   EDUSTAT_ALERT_URLS=receiver[0])
        yield {"env": env, "dsn": dsn, "home": home, "landing": landing, "summary": summary}


def _cvs(conn: psycopg.Connection, faulty: str, good: str) -> tuple[list, list]:
    """The CVs of every county but these two, and the good county's 2025 CVs."""
    others = conn.execute(
        """SELECT school_year, county_code, section, indicator, cv::text
           FROM marts.county_indicator_cv WHERE county_code NOT IN (%s, %s)
           ORDER BY 1, 2, 3, 4""", (faulty, good)).fetchall()
    good_2025 = conn.execute(
        """SELECT section, indicator, cv::text FROM marts.county_indicator_cv
           WHERE county_code = %s AND school_year = 2025 ORDER BY 1, 2""", (good,)).fetchall()
    return others, good_2025


def _run(night: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run([EDUSTAT, "run"], env=night["env"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def test_first_night_accepts_good_files_and_rejects_faulty_ones(night: dict,
                                                                receiver: tuple) -> None:
    proc = _run(night)
    faulty = {(f.county_code, f.year) for f in night["summary"].faulty}
    assert len(faulty) == 2
    with psycopg.connect(night["dsn"]) as conn:
        statuses = dict(conn.execute(
            "SELECT status, count(*) FROM ops.submissions GROUP BY 1").fetchall())
        rejected = conn.execute(
            """SELECT county_code, school_year, report_path, quarantine_path
               FROM ops.submissions WHERE status = 'rejected'""").fetchall()
        status_mart = conn.execute(
            "SELECT status, count(*) FROM marts.submission_status GROUP BY 1").fetchall()
    files = len(night["summary"].files)
    assert statuses == {"accepted": files - 2, "rejected": 2}
    assert {(c, y) for c, y, _, _ in rejected} == faulty
    site = night["home"] / "reports"
    for county, _, report, quarantine in rejected:
        html = Path(report).read_text(encoding="utf-8")
        assert county in html and "第" in html and "row" in html
        assert site / "rejections" in Path(report).parents
        assert (Path(report).parent / "rejection_report.csv").exists()
        assert any(Path(quarantine).iterdir())
    # Every Qinghai county is expected (the province submitted): 8 sent both years, two of
    # them a faulty 2025 file; the other 37 are missing.
    accepted = COUNTIES * len(YEARS) - 2
    assert dict(status_mart) == {"accepted": accepted, "rejected": 2,
                                 "missing": (45 - COUNTIES) * len(YEARS)}
    assert f"接收 accepted {accepted}" in proc.stdout and "退回 rejected 2" in proc.stdout
    digests = [m for m in receiver[1] if "edustat" in json.dumps(m, ensure_ascii=False)]
    assert digests, "no digest reached the JSON receiver"
    text = json.dumps(digests[-1], ensure_ascii=False)
    for county, _ in faulty:
        assert county in text
    assert "file://" not in text


def test_the_night_publishes_a_site_with_counts_pdfs_and_no_file_urls(night: dict) -> None:
    with psycopg.connect(night["dsn"]) as conn:
        counts = conn.execute(
            """SELECT school_year, counties_expected, counties_reporting FROM marts.region_summary
               WHERE region_level = 'province' ORDER BY 1""").fetchall()
        accepted = dict(conn.execute(
            """SELECT school_year, count(*) FROM marts.submission_status
               WHERE status = 'accepted' GROUP BY 1""").fetchall())
    # All 45 Qinghai counties are expected; 8 sent files, two of them a faulty 2025 file.
    assert counts == [(2024, 45, COUNTIES), (2025, 45, COUNTIES - 2)]
    assert accepted == {2024: COUNTIES, 2025: COUNTIES - 2}
    site = night["home"] / "reports"
    for year in YEARS:
        page = (site / str(year) / "index.html").read_text(encoding="utf-8")
        assert f"已接收 <span data-field=\"reporting\">{accepted[year]}</span>/" in page
        assert (site / str(year) / "index.pdf").stat().st_size > 10_000
        cards = list((site / str(year) / "county").glob("*.html"))
        assert len(cards) == 45
        assert all(card.with_suffix(".pdf").is_file() for card in cards)
    assert (site / "rejections" / "index.html").is_file()
    assert (site / "data-docs" / "index.html").is_file()
    for path in site.rglob("*"):
        if path.suffix in (".html", ".css", ".csv", ".json"):
            assert "file://" not in path.read_text(encoding="utf-8", errors="replace"), path


def test_marts_equal_an_independent_computation(night: dict) -> None:
    assert_cvs_match(night["dsn"])


def test_same_night_again_changes_nothing(night: dict) -> None:
    before = fingerprint(night["dsn"])
    with psycopg.connect(night["dsn"]) as conn:
        subs = conn.execute("SELECT count(*) FROM ops.submissions").fetchone()[0]
    # The same bytes under another name are one submission too.
    county = night["summary"].counties[0]
    original = sorted((night["landing"] / county).iterdir())[0]
    land(original, original.with_name("再次报送-" + original.name), datetime.now(UTC))
    _run(night)
    after = fingerprint(night["dsn"])
    with psycopg.connect(night["dsn"]) as conn:
        rows = dict(conn.execute(
            "SELECT status, count(*) FROM ops.submissions WHERE submission_id > %s GROUP BY 1",
            (subs,)).fetchall())
    assert after == before
    assert rows == {"duplicate": 1}


def test_resubmissions_replace_one_county_year_and_bad_ones_cost_nothing(night: dict) -> None:
    dsn = night["dsn"]
    faulty = night["summary"].faulty[0]
    good = next(c for c in night["summary"].counties
                if c not in {f.county_code for f in night["summary"].faulty})
    with psycopg.connect(dsn) as conn:
        before_other, good_2025 = _cvs(conn, faulty.county_code, good)
        good_2025_id = conn.execute(
            """SELECT submission_id FROM ops.submissions WHERE county_code = %s
               AND school_year = 2025 AND status = 'accepted'""", (good,)).fetchone()[0]
    # 1) the faulty county sends a corrected file: its clean twin from a fault-free generation
    clean = generate("63", YEARS, night["home"] / "clean", seed=11, faulty=0,
                     counties=[faulty.county_code])
    corrected = next(p for p in clean.files if str(faulty.year) in p.name)
    land(corrected, night["landing"] / faulty.county_code / ("更正-" + corrected.name),
         datetime.now(UTC))
    # 2) a good county sends a broken 2025 file (text in a count column): rejected, nothing lost
    broken_src = next(p for p in sorted((night["landing"] / good).iterdir()) if "2025" in p.name)
    broken = night["landing"] / good / ("重报-" + broken_src.name.replace(".xlsx", ".csv"))
    _write_broken_csv(dsn, good_2025_id, broken)
    settle(broken, datetime.now(UTC))
    _run(night)
    with psycopg.connect(dsn) as conn:
        fixed = conn.execute(
            """SELECT status, school_year FROM ops.submissions
               WHERE county_code = %s AND file_name LIKE '更正-%%'""",
            (faulty.county_code,)).fetchone()
        bad = conn.execute(
            "SELECT status FROM ops.submissions WHERE county_code = %s AND file_name LIKE"
            " '重报-%%'", (good,)).fetchone()
        served = conn.execute(
            """SELECT status, accepted_submission_id FROM marts.submission_status
               WHERE county_code = %s AND school_year = %s""",
            (faulty.county_code, faulty.year)).fetchone()
        after_other, good_2025_after = _cvs(conn, faulty.county_code, good)
        good_status = conn.execute(
            """SELECT status, accepted_submission_id, last_rejected_submission_id IS NOT NULL
               FROM marts.submission_status WHERE county_code = %s AND school_year = 2025""",
            (good,)).fetchone()
    assert fixed == ("accepted", faulty.year)
    assert served[0] == "accepted"
    assert bad == ("rejected",)
    assert good_2025_after == good_2025  # the accepted file keeps serving
    assert good_status == ("accepted", good_2025_id, True)
    assert after_other == before_other


def _write_broken_csv(dsn: str, submission_id: int, path: Path) -> None:
    """The county's accepted rows as a CSV, with one count cell made unreadable."""
    from edustat.columns import COLUMNS

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(c.key for c in COLUMNS)} FROM raw.school_rows"
            " WHERE submission_id = %s ORDER BY row_number", (submission_id,)).fetchall()
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in COLUMNS])
        for i, row in enumerate(rows):
            values = ["" if v is None else str(v) for v in row]
            if i == 0:
                values[[c.key for c in COLUMNS].index("books")] = "不详"
            writer.writerow(values)
