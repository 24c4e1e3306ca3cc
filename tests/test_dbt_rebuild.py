"""Protects what a nightly rebuild after a resubmission means for the marts and their readers.

One scenario (two real `dbt build`s on a real Postgres): 城东区 and 城中区 submit 2020–2024,
marts are built; 城东区 resends 2021 (one more school, corrected intake) and the marts are
rebuilt while a `ministry_reader` login counts every mart in a tight loop. Then:

- history: every other year's rows are identical in every mart, column for column, except the
  county's readiness row of 2024, whose 初中三年巩固率 divides by the 2021 intake, and its
  school changes of 2022, which compare with the 2021 schools: both must follow the new file
  (why a night's scope carries the follow-on years Y+1, Y+3, Y+9); 2021 is served from the
  new file;
- no empty window: the reader never got 0 rows or an error (permission errors included: grants
  travel with the swapped-in table), and it did read both the old and the new tables;
- access: the reader role has SELECT on the marts and nothing else — raw, ops, staging,
  intermediate and the reference seeds are closed, and every write to the marts fails.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import psycopg
import pytest

from edustat.transform import dbt_build
from fixtures.dbt.marts_db import GRAINS, create_warehouse, drop_warehouse, fetch, same
from fixtures.dbt.sample_province import A, B, county_a, county_b
from fixtures.dbt.warehouse_rows import WarehouseWriter, school

MARTS = tuple(GRAINS)
YEARS = range(2020, 2025)
RESENT = 2021
NEW_SCHOOL = "6301020099"

FORBIDDEN_READS = ("raw.school_rows", "ops.submissions", "ops.runs", "ops.validation_results",
                   "staging.stg_raw__school_rows", "staging.stg_ops__submissions",
                   "intermediate.int_school_rows_current",
                   "intermediate.int_county_indicator_cv_computed", "reference.divisions",
                   "reference.indicator_thresholds")
FORBIDDEN_WRITES = (
    "INSERT INTO marts.school_indicators (school_year, school_code, section)"
    " VALUES (2023, 'x', 'primary')",
    "UPDATE marts.county_broadband SET schools = 0",
    "DELETE FROM marts.region_summary",
    "TRUNCATE marts.submission_status",
    "CREATE TABLE marts.mine (x int)",
    "DROP TABLE marts.county_indicator_cv",
    "ALTER TABLE marts.school_indicators ADD COLUMN x int",
    "CREATE TABLE public.mine AS SELECT * FROM marts.school_indicators",
)


class Reader(threading.Thread):
    """Counts every mart again and again from its own connection, as a ministry would."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.stop = threading.Event()
        self.queries = 0
        self.empty: list[str] = []
        self.errors: list[str] = []
        self.counts: dict[str, set[int]] = {t: set() for t in MARTS}

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                for table in MARTS:
                    self.queries += 1
                    try:
                        count = conn.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
                    except psycopg.Error as exc:  # what a ministry would see: record, go on
                        self.errors.append(f"{table}: {exc}")
                        continue
                    self.counts[table].add(count)
                    if count == 0:
                        self.empty.append(table)


@dataclass
class Scenario:
    dsn: str
    reader_login: str
    before: dict[str, dict[tuple, dict]]
    after: dict[str, dict[tuple, dict]]
    first_ids: dict[int, int]
    new_id: int
    resent: list[dict[str, object]]
    reader: Reader


def snapshot(dsn: str) -> dict[str, dict[tuple, dict]]:
    return {table: fetch(dsn, f"marts.{table}", keys) for table, keys in GRAINS.items()}


def year_of(table: str, key: tuple) -> int:
    return key[GRAINS[table].index("school_year")]


@pytest.fixture(scope="module")
def scenario(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    dsn = create_warehouse(pg_server)
    login = f"edustat_ministry_{uuid.uuid4().hex[:8]}"  # roles are server-wide: unique, dropped
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE ministry_reader')
    try:
        writer = WarehouseWriter(dsn)
        first_ids = {}
        for year in YEARS:
            first_ids[year] = writer.submit(A, year, county_a(year))
            writer.submit(B, year, county_b(year))
        target = tmp_path_factory.mktemp("dbt_rebuild")
        result = dbt_build(dsn, target)
        assert result.ok, result.summary() + "\n" + result.output
        before = snapshot(dsn)

        # 城东区 resends 2021: a school it had forgotten (short of backbone teachers), and a
        # corrected junior intake.
        resent = [*county_a(RESENT), school(NEW_SCHOOL, "城东区新建小学", "211", primary=180,
                                            primary_backbone_teachers=0)]
        for row in resent:
            row["junior_intake"] = int(row["junior_students"]) // 4
        new_id = writer.submit(A, RESENT, resent, replaces=first_ids[RESENT])

        reader = Reader(psycopg.conninfo.make_conninfo(dsn, user=login))
        reader.start()
        time.sleep(0.5)  # reading the old tables before the build starts
        try:
            result = dbt_build(dsn, target)
            time.sleep(0.5)
        finally:
            reader.stop.set()
            reader.join(timeout=30)
        assert result.ok, result.summary() + "\n" + result.output
        yield Scenario(dsn, login, before, snapshot(dsn), first_ids, new_id, resent, reader)
    finally:
        drop_warehouse(pg_server, dsn)
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{login}"')


def test_resubmission_leaves_other_years_identical(scenario: Scenario) -> None:
    before, after = scenario.before, scenario.after
    assert all(before.values()), "every mart has rows"
    follows_resent_year = {("county_balance_readiness", (RESENT + 3, A)),
                           ("county_school_changes", (RESENT + 1, A))}
    for table in GRAINS:
        other_before = {k: v for k, v in before[table].items() if year_of(table, k) != RESENT}
        other_after = {k: v for k, v in after[table].items() if year_of(table, k) != RESENT}
        assert other_before.keys() == other_after.keys(), table
        for key, row in other_before.items():
            if (table, key) not in follows_resent_year:
                assert other_after[key] == row, f"{table} {key} changed by a resend of {RESENT}"
        resent_before = {k: v for k, v in before[table].items() if year_of(table, k) == RESENT}
        resent_after = {k: v for k, v in after[table].items() if year_of(table, k) == RESENT}
        assert resent_after != resent_before, f"{table} did not follow the new {RESENT} file"


def test_the_resent_year_is_served_from_the_new_file(scenario: Scenario) -> None:
    schools = scenario.after["school_indicators"]
    assert schools[(RESENT, NEW_SCHOOL, "primary")]["submission_id"] == scenario.new_id
    assert (RESENT, NEW_SCHOOL, "primary") not in scenario.before["school_indicators"]
    status = scenario.after["submission_status"][(A, RESENT)]
    assert (status["accepted_submission_id"], status["replaced_submission_id"]) == (
        scenario.new_id, scenario.first_ids[RESENT])

    # The school opened in the resent 2021 is missing from 2022: closed there.
    changes = scenario.after["county_school_changes"][(RESENT + 1, A)]
    assert changes["closed_school_codes"] == [NEW_SCHOOL] and changes["schools_closed"] == 1
    assert scenario.before["county_school_changes"][(RESENT + 1, A)]["schools_closed"] == 0
    opened = scenario.after["county_school_changes"][(RESENT, A)]
    assert NEW_SCHOOL in opened["opened_school_codes"]

    # Y+3 retention divides by the corrected intake; nothing else in that row moved.
    old_row = scenario.before["county_balance_readiness"][(RESENT + 3, A)]
    new_row = scenario.after["county_balance_readiness"][(RESENT + 3, A)]
    graduates = sum(int(s["junior_graduates"]) for s in county_a(RESENT + 3))
    intake = sum(int(s["junior_intake"]) for s in scenario.resent)
    assert same(new_row["junior_retention_rate"], Fraction(graduates, intake))
    assert new_row["junior_retention_rate"] != old_row["junior_retention_rate"]
    moved = {"junior_retention_rate", "retention_ok", "ready", "gaps"}
    assert {k: v for k, v in new_row.items() if k not in moved} == \
        {k: v for k, v in old_row.items() if k not in moved}


def test_readers_never_see_an_empty_or_missing_mart_during_the_build(
        scenario: Scenario) -> None:
    reader = scenario.reader
    assert not reader.errors, reader.errors[:5]
    assert not reader.empty, reader.empty[:5]
    assert reader.queries > 10 * len(MARTS), reader.queries
    # It read across the swap: the old and the new school_indicators (one school more).
    old = len(scenario.before["school_indicators"])
    assert reader.counts["school_indicators"] == {old, old + 1}


def test_ministry_reader_reads_marts_and_nothing_else(scenario: Scenario) -> None:
    as_member = psycopg.conninfo.make_conninfo(scenario.dsn, user=scenario.reader_login)
    with psycopg.connect(as_member, autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == scenario.reader_login
        for table in MARTS:
            count = conn.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
            assert count > 0, table
        for table in FORBIDDEN_READS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1")
        for statement in FORBIDDEN_WRITES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)

    # The catalogue agrees: SELECT on every marts table, no other privilege anywhere.
    with psycopg.connect(scenario.dsn) as conn:
        grants = set(conn.execute(
            "SELECT table_schema, table_name, privilege_type"
            " FROM information_schema.role_table_grants WHERE grantee = 'ministry_reader'"
        ).fetchall())
        marts_tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'")}
    assert marts_tables == set(MARTS)
    assert grants == {("marts", t, "SELECT") for t in marts_tables}


def test_a_reader_role_is_needed_for_any_access(scenario: Scenario, pg_server: str) -> None:
    """A login that is not a member of ministry_reader cannot read the marts at all."""
    outsider = f"edustat_outsider_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{outsider}" LOGIN')
    try:
        dsn = psycopg.conninfo.make_conninfo(scenario.dsn, user=outsider)
        # Refused at the door (no CONNECT on the warehouse database for PUBLIC).
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(dsn, autocommit=True)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{outsider}"')
