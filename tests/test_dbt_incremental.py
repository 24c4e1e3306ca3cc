"""Protects the incremental night (issue: scale, item 3): dbt redoes only what depends on the
county-years a night changed, and what it publishes equals a rebuild from scratch.

- The plan (edustat.warehouse.build_scope) against real ops tables: full on the first build and
  whenever the dbt project or its vars changed; otherwise the county-years decided since the
  last published build (a failed build leaves them pending), the Y+3 year whose 初中三年巩固率
  reads year Y's intake, and a whole year once enough of its counties changed.
- Two real nightly builds (pipeline.build_marts, real dbt on a real Postgres): after one county
  resends one year, rows of every other county-year in the incremental intermediate tables are
  not rewritten (their xmin is unchanged), the changed ones and the Y+3 retention row are; and
  every mart, column for column, equals a --full-refresh rebuild of the same data.
- Reports follow the same rule: the counties of every night whose reports were not built
  (a failed night included), in their year and every later year.
- The tests of an incremental build look at its county-years only, yet a changed county that
  takes an unchanged county's school code still fails them: the night holds that county-year
  back (status held, dbt's error kept), its previous file keeps serving, and an unchanged
  project does not retry it the next night.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from edustat import pipeline
from edustat.config import Settings, load_settings
from edustat.transform import PROJECT_DIR, dbt_build
from edustat.warehouse import build_scope
from fixtures.dbt.marts_db import GRAINS, create_warehouse, drop_warehouse, fetch, same
from fixtures.dbt.sample_province import (
    A,
    B,
    C,
    E,
    county_a,
    county_b,
    county_c,
    county_e,
    later,
)
from fixtures.dbt.warehouse_rows import WarehouseWriter, school

YEARS = range(2020, 2025)
RESENT = 2021


@pytest.fixture
def dsn(pg_server: str) -> Iterator[str]:
    dsn = create_warehouse(pg_server)
    try:
        yield dsn
    finally:
        drop_warehouse(pg_server, dsn)


def _publish_marker(dsn: str, fingerprint: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("COMMENT ON SCHEMA marts IS {}").format(
            sql.Literal(build_scope.fingerprint_comment(fingerprint))))


def _set_dbt_status(dsn: str, run_id: str, status: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE ops.runs SET dbt_status = %s WHERE run_id = %s", (status, run_id))


def _plan(dsn: str, fingerprint: str = "f1") -> build_scope.BuildScope:
    with psycopg.connect(dsn) as conn:
        return build_scope.plan(conn, fingerprint)


def test_plan_is_full_until_marts_are_published_by_the_same_project(dsn: str) -> None:
    WarehouseWriter(dsn, "n1").submit(A, 2023, county_a(2023))
    assert _plan(dsn).full
    _publish_marker(dsn, "f0")
    scope = _plan(dsn, "f1")
    assert scope.full and "changed" in scope.reason


def test_plan_keeps_failed_nights_pending_and_adds_the_retention_year(
        dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_scope, "WHOLE_YEAR_SHARE", 0.75)
    first = WarehouseWriter(dsn, "n1")
    for year in YEARS:
        for county, rows in ((A, county_a(year)), (B, county_b(year)), (C, county_c()),
                             (E, county_e(1))):
            first.submit(county, year, rows)
    _set_dbt_status(dsn, "n1", "success")
    _publish_marker(dsn, "f1")
    assert _plan(dsn) == build_scope.BuildScope(False, "0 changed, 0 retention dependents")

    failed = WarehouseWriter(dsn, "n2")  # its build failed: still to be published
    failed.submit(B, 2024, county_b(2024))
    _set_dbt_status(dsn, "n2", "failed")
    tonight = WarehouseWriter(dsn, "n3")
    tonight.submit(A, RESENT, county_a(RESENT))
    tonight.submit(C, 2022, [], status="duplicate", raw_text=[])
    scope = _plan(dsn)
    assert not scope.full and scope.years == ()
    # 2021 changes the schools opened and closed in 2022 and the retention of 2024 (and
    # nothing else there); 2024's own change has no later year with data.
    assert scope.keys == ((A, 2021), (B, 2024))
    assert scope.retention_keys == ((A, 2022), (A, 2024))
    assert scope.dbt_var() == {"years": [], "keys": [[A, 2021], [B, 2024]],
                               "retention_years": [],
                               "retention_keys": [[A, 2022], [A, 2024]]}

    # Three of the four counties of 2022: from that share of a year's counties on, the whole
    # year.
    tonight.submit(A, 2022, county_a(2022))
    tonight.submit(C, 2022, county_c())
    tonight.submit(E, 2022, county_e(2))
    scope = _plan(dsn)
    assert scope.years == (2022,)
    assert scope.keys == ((A, 2021), (B, 2024))
    # 2023's schools opened and closed follow the whole of 2022.
    assert scope.retention_years == (2023,) and scope.retention_keys == ((A, 2024),)


def _ctx(settings: Settings, run_id: str) -> pipeline.RunContext:
    return pipeline.RunContext(run_id=run_id, logical_date=datetime(2026, 4, 1, tzinfo=UTC),
                               landing=None, settings=settings)


def _xmins(dsn: str, table: str, year_column: str = "school_year",
           code_column: str = "county_code") -> dict[tuple[str, int], set[str]]:
    out: dict[tuple[str, int], set[str]] = {}
    with psycopg.connect(dsn) as conn:
        for code, year, xmin in conn.execute(
                f"SELECT {code_column}, {year_column}, xmin::text FROM intermediate.{table}"):
            out.setdefault((code, year), set()).add(xmin)
    return out


def test_incremental_night_rebuilds_only_what_the_change_touches(
        dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_scope, "WHOLE_YEAR_SHARE", 0.5)
    settings = load_settings({"EDUSTAT_HOME": str(tmp_path / "home"),
                              "EDUSTAT_WAREHOUSE_DSN": dsn})
    first = WarehouseWriter(dsn, "night-1")
    first_ids = {}
    for year in YEARS:
        first_ids[year] = first.submit(A, year, county_a(year))
        first.submit(B, year, county_b(year))
        first.submit(C, year, county_c())
        first.submit(E, year, county_e(1))
    built = pipeline.build_marts(_ctx(settings, "night-1"))
    assert built["scope"].startswith("full build"), built

    tables = ("int_school_rows_current", "int_section_indicators_computed",
              "int_county_indicator_cv_assessed", "int_county_retention_computed")
    before = {t: _xmins(dsn, t) for t in tables}
    regions_before = _xmins(dsn, "int_region_measures_aggregated", code_column="region_code")

    # 城东区 resends 2021: one school more and a corrected junior intake (retention of 2024).
    resent = [*county_a(RESENT), school("6301020099", "城东区新建小学", "211", primary=180,
                                        primary_backbone_teachers=0)]
    for row in resent:
        row["junior_intake"] = int(row["junior_students"]) // 4
    WarehouseWriter(dsn, "night-2").submit(A, RESENT, resent, replaces=first_ids[RESENT],
                                           received_at=later(1))
    built = pipeline.build_marts(_ctx(settings, "night-2"))
    assert built["scope"].startswith("incremental build"), built
    # Follow-on county-years: 2022 (its schools opened and closed compare with 2021) and 2024
    # (its retention divides by the 2021 intake).
    assert "and 1 county-years, retention of [] and 2 more" in built["scope"], built

    touched = {(A, RESENT)}
    for table in tables:
        after = _xmins(dsn, table)
        assert after.keys() == before[table].keys(), table
        expect = touched | ({(A, RESENT + 1), (A, RESENT + 3)}
                            if table == "int_county_retention_computed" else set())
        for key, xmins in after.items():
            if key in expect:
                assert xmins.isdisjoint(before[table][key]), f"{table} {key} not rebuilt"
            else:
                assert xmins == before[table][key], f"{table} {key} rewritten needlessly"
    # Regions: only the province-year of the change (both counties are in province 63; its
    # other years are untouched).
    for (code, year), xmins in _xmins(dsn, "int_region_measures_aggregated",
                                      code_column="region_code").items():
        changed = xmins.isdisjoint(regions_before[(code, year)])
        assert changed == (year == RESENT), (code, year)

    incremental = {t: fetch(dsn, f"marts.{t}", keys) for t, keys in GRAINS.items()}
    assert (RESENT, "6301020099", "primary") in incremental["school_indicators"]
    assert incremental["county_school_changes"][(RESENT + 1, A)]["closed_school_codes"] == [
        "6301020099"]

    # The same data rebuilt from scratch: every mart row and value must be the same.
    result = dbt_build(dsn, tmp_path / "full", full_refresh=True,
                       vars={"marts_schema": "marts_full"})
    assert result.ok, result.summary() + "\n" + result.output
    for table, keys in GRAINS.items():
        full = fetch(dsn, f"marts_full.{table}", keys)
        assert full.keys() == incremental[table].keys(), table
        for key, row in full.items():
            mismatched = [c for c, v in row.items() if not same(incremental[table][key][c], v)]
            assert not mismatched, f"{table} {key}: {mismatched}"

    # 城西区 resends 2023 with one school under 城东区's code: valid alone, a duplicate grain.
    clash = county_c()
    clash[0]["school_code"] = "6301020001"
    held = WarehouseWriter(dsn, "night-3").submit(C, 2023, clash, received_at=later(2))
    built = pipeline.build_marts(_ctx(settings, "night-3"))
    assert built["held"] == 1 and built["builds"] == 2, built  # tonight's, then none held
    assert fetch(dsn, "marts.school_indicators", GRAINS["school_indicators"]) == \
        incremental["school_indicators"]
    with psycopg.connect(dsn) as conn:
        status, reason, run = conn.execute(
            "SELECT status, held_reason, held_run_id FROM ops.submissions"
            " WHERE submission_id = %s", (held,)).fetchone()
        mart = conn.execute(
            "SELECT status, last_held_submission_id, accepted_submission_id IS NOT NULL"
            " FROM marts.submission_status WHERE county_code = %s AND school_year = 2023",
            (C,)).fetchone()
    assert (status, run) == ("held", "night-3")
    assert "unique_combination_school_indicators" in reason
    assert mart == ("held", held, True)
    assert (C, 2023) not in _plan(dsn, build_scope.project_fingerprint(PROJECT_DIR, {
        "jurisdiction": []})).keys


def test_fingerprint_follows_the_project_and_its_vars(tmp_path: Path) -> None:
    base = build_scope.project_fingerprint(PROJECT_DIR, {"jurisdiction": []})
    assert base == build_scope.project_fingerprint(PROJECT_DIR, {"jurisdiction": []})
    assert base != build_scope.project_fingerprint(PROJECT_DIR, {"jurisdiction": ["63"]})
    copy = tmp_path / "project"
    for part in ("dbt_project.yml", "models", "macros", "seeds", "tests"):
        source = PROJECT_DIR / part
        target = copy / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    assert build_scope.project_fingerprint(copy, {"jurisdiction": []}) == base
    seed = copy / "seeds" / "policy_parameters.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert build_scope.project_fingerprint(copy, {"jurisdiction": []}) != base


def test_reports_cover_every_night_not_yet_reported(dsn: str) -> None:
    done = WarehouseWriter(dsn, "n1")
    for year in (2022, 2023):
        done.submit(A, year, county_a(year))
        done.submit(B, year, county_b(year))
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE ops.runs SET steps_done = '{build_reports}' WHERE run_id = 'n1'")
        assert pipeline.unreported_counties(conn) == {}
    WarehouseWriter(dsn, "n2").submit(B, 2022, county_b(2022), received_at=later(1))  # failed
    tonight = WarehouseWriter(dsn, "n3")
    tonight.submit(C, 2023, county_c(), received_at=later(2))
    tonight.submit(A, 2023, [], status="duplicate", raw_text=[])
    with psycopg.connect(dsn) as conn:
        assert pipeline.unreported_counties(conn) == {2022: {B}, 2023: {B, C}}
