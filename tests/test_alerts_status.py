"""Which county owes which year, and where each county-year stands: the warehouse's one rule.

Protects ops.expected_county_years / ops.county_year_status (warehouse/schema.sql), read by dbt,
`edustat status` and the notices: the jurisdiction rule of docs/interface.md (EDUSTAT_JURISDICTION
provinces, `national`, else the provinces that submitted); the years owed (EDUSTAT_FIRST_YEAR,
else from the year the province first submitted, so a province added today is not late for
years nobody asked of it); the status precedence (an accepted file keeps serving over a later
rejected one; a held file shows as held); unreadable and undecided files; the divisions copy;
the calendar of reminders and late notices on the logical date. County counts were taken from
the seed CSV with awk, independently of the code.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from edustat.config import Settings, load_settings
from edustat.divisions import SEED_PATH, sync_divisions_table
from edustat.notices.status import county_year_status, owed, through_year
from edustat.summary import status_rows

RUN = "r1"


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"EDUSTAT_HOME": str(tmp_path), **env})


def _file(conn: psycopg.Connection, county: str, year: int | None, status: str,
          received: str = "2026-01-10") -> int:
    return conn.execute(
        """INSERT INTO ops.submissions (county_code, school_year, file_name, landing_path,
               checksum, size_bytes, received_at, status, run_id, decided_run_id)
           VALUES (%s, %s, 'f.xlsx', 'l', md5(random()::text), 1, %s, %s, %s,
                   CASE WHEN %s IN ('accepted', 'rejected') THEN %s END)
           RETURNING submission_id""",
        (county, year, received, status, RUN, status, RUN)).fetchone()[0]


@pytest.fixture
def conn(warehouse: str) -> psycopg.Connection:
    with psycopg.connect(warehouse, autocommit=True) as c:
        c.execute("INSERT INTO ops.runs (run_id, logical_date) VALUES (%s, now())", (RUN,))
        yield c


def _expected(conn: psycopg.Connection, settings: Settings, through: int | None = None
              ) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row in county_year_status(conn, settings, through):
        if row.expected:
            out.setdefault(row.school_year, set()).add(row.county_code)
    return out


def test_divisions_copy_follows_the_seed(conn: psycopg.Connection, tmp_path: Path) -> None:
    units = conn.execute("SELECT count(*) FROM ops.divisions WHERE is_county_unit").fetchone()[0]
    assert units == 2855
    assert not sync_divisions_table(conn)  # unchanged seed: nothing reloaded
    edited = tmp_path / "divisions.csv"
    seed = SEED_PATH.read_text(encoding="utf-8")
    edited.write_text(seed.replace("630103,城中区", "630103,城中新区"), encoding="utf-8")
    assert sync_divisions_table(conn, edited)
    assert conn.execute("SELECT division_name FROM ops.divisions WHERE division_code = '630103'"
                        ).fetchone()[0] == "城中新区"
    # A renamed seed column fails loudly instead of loading a shifted table.
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(SEED_PATH.read_text(encoding="utf-8").replace("division_name", "name", 1),
                       encoding="utf-8")
    with pytest.raises(psycopg.Error), conn.transaction():
        sync_divisions_table(conn, renamed)


def test_jurisdiction_chooses_the_counties(conn: psycopg.Connection, tmp_path: Path) -> None:
    _file(conn, "630103", 2025, "accepted")
    _file(conn, "110101", 2025, "rejected")
    assert _expected(conn, _settings(tmp_path, EDUSTAT_JURISDICTION="63")) == {
        2025: {r[0] for r in conn.execute(
            "SELECT division_code FROM ops.divisions WHERE is_county_unit"
            " AND division_code LIKE '63%'")}}
    assert len(_expected(conn, _settings(tmp_path, EDUSTAT_JURISDICTION="63"))[2025]) == 45
    assert len(_expected(conn, _settings(tmp_path, EDUSTAT_JURISDICTION="national"))[2025]
               ) == 2855
    # No jurisdiction: every county of the provinces that sent anything (Qinghai, Beijing).
    assert len(_expected(conn, _settings(tmp_path))[2025]) == 45 + 16
    # 630000 is read as Qinghai too; an unrelated county's file is still listed, not expected.
    rows = county_year_status(conn, _settings(tmp_path, EDUSTAT_JURISDICTION="630000"))
    beijing = [r for r in rows if r.county_code == "110101"]
    assert [(r.expected, r.in_jurisdiction, r.status) for r in beijing] == [
        (False, False, "rejected")]


def test_years_owed_no_late_flood(conn: psycopg.Connection, tmp_path: Path) -> None:
    """Qinghai submits since 2022; Gansu (62) joins with 2025; Ningxia (64) never sent anything."""
    for year in (2022, 2023, 2024, 2025):
        _file(conn, "630103", year, "accepted")
    _file(conn, "620102", 2025, "accepted")
    settings = _settings(tmp_path, EDUSTAT_JURISDICTION="62,63,64")
    by_year = _expected(conn, settings)
    assert sorted(by_year) == [2022, 2023, 2024, 2025]
    assert {c[:2] for c in by_year[2022]} == {"63"}  # Gansu owes nothing before it joined
    assert {c[:2] for c in by_year[2025]} == {"62", "63", "64"}  # Ningxia: the latest year only
    # EDUSTAT_FIRST_YEAR: every county owes every year from it on, whoever submitted what.
    first = dataclasses.replace(settings, first_year=2024)
    by_year = _expected(conn, first)
    assert sorted(by_year) == [2024, 2025]
    assert by_year[2024] == by_year[2025] and {c[:2] for c in by_year[2024]} == {"62", "63", "64"}
    # 2022 is still listed for the county that sent it, but nobody owes it.
    rows = {(r.county_code, r.school_year): r for r in county_year_status(conn, first)}
    assert rows[("630103", 2022)].status == "accepted" and not rows[("630103", 2022)].expected
    # The year whose reminders have started is owed before anyone sent a file for it.
    assert sorted(_expected(conn, settings, through=2026)) == [2022, 2023, 2024, 2025, 2026]


def test_status_precedence(conn: psycopg.Connection, tmp_path: Path) -> None:
    accepted = _file(conn, "630103", 2025, "accepted", "2026-01-10")
    _file(conn, "630103", 2025, "rejected", "2026-02-10")  # a bad resubmission costs nothing
    rejected = _file(conn, "630104", 2025, "rejected", "2026-01-10")
    newest = _file(conn, "630104", 2025, "rejected", "2026-02-10")
    _file(conn, "630105", 2025, "accepted", "2026-01-10")
    # A file validation accepted, held back from the marts (its county-year broke the build).
    conn.execute("ALTER TABLE ops.submissions DROP CONSTRAINT submissions_status_check")
    held = _file(conn, "630105", 2025, "held", "2026-02-10")
    _file(conn, "630106", None, "rejected")  # unreadable: no year
    _file(conn, "630107", None, "received")  # a stray folder's file, not decided yet
    _file(conn, "630121", None, "received")  # undecided
    rows = {r.county_code: r for r in county_year_status(
        conn, _settings(tmp_path, EDUSTAT_JURISDICTION="63"), year=2025)}
    assert (rows["630103"].status, rows["630103"].accepted_submission_id) == ("accepted", accepted)
    assert (rows["630104"].status, rows["630104"].last_rejected_submission_id,
            rows["630104"].files_rejected) == ("rejected", newest, 2)
    assert rejected != newest
    assert (rows["630105"].status, rows["630105"].held_submission_id) == ("held", held)
    assert rows["630106"].status == "missing" and rows["630106"].files_unreadable == 1
    assert rows["630121"].files_pending == 1
    assert "630107" not in rows  # no year: not placed in a year
    # `edustat status` lists what the warehouse says, nothing else.
    cli = {(r.county_code, r.school_year): r.status for r in status_rows(
        _settings(tmp_path, EDUSTAT_JURISDICTION="63"), conn.info.dsn, year=2025)}
    assert cli == {(c, 2025): r.status for c, r in rows.items()}


def test_reminder_calendar_on_the_logical_date(conn: psycopg.Connection, tmp_path: Path) -> None:
    _file(conn, "630103", 2025, "accepted")
    _file(conn, "630104", 2025, "rejected")
    _file(conn, "630106", None, "rejected")  # unreadable
    _file(conn, "630121", None, "received")  # undecided: owes nothing until decided
    settings = _settings(tmp_path, EDUSTAT_JURISDICTION="63", EDUSTAT_MISSING_DEADLINE="03-31",
                         EDUSTAT_REMINDER_DAYS="30")

    def at(day: str) -> dict[str, tuple[str, str, int]]:
        when = datetime.fromisoformat(day).replace(tzinfo=UTC)
        rows = county_year_status(conn, settings, through_year(settings, when))
        return {o.county_code: (o.phase, o.state, o.days_left)
                for o in owed(rows, settings, when) if o.school_year == 2025}

    assert at("2026-02-27T00:00:00") == {}  # reminders start 2026-03-01 (Beijing)
    due = at("2026-03-01T00:00:00")
    assert due["630104"] == ("due", "rejected_only", 30)
    assert due["630106"] == ("due", "rejected_only", 30)
    assert due["630102"] == ("due", "missing", 30)
    assert "630103" not in due and "630121" not in due and len(due) == 43
    # 2026-03-31 16:00 UTC is 04-01 in Beijing: late.
    late = at("2026-03-31T16:00:00")
    assert late["630102"] == ("late", "missing", -1) and len(late) == 43
    assert through_year(settings, datetime(2026, 2, 1, tzinfo=UTC)) == 2024
    assert through_year(settings, datetime(2026, 3, 1, tzinfo=UTC)) == 2025
    bad = dataclasses.replace(settings, missing_deadline="13-45")
    assert through_year(bad, datetime(2026, 3, 1, tzinfo=UTC)) is None
    assert date(2026, 3, 31) in {o.deadline for o in owed(
        county_year_status(conn, settings, 2025), settings, datetime(2026, 4, 2, tzinfo=UTC))}
