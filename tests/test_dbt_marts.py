"""Protects the marts' numbers: a hand-made Qinghai (tests/fixtures/dbt/sample_province.py) is
written into raw/ops of a real Postgres, `dbt build` runs through edustat.transform, and every
mart must equal what docs/methodology.md and docs/interface.md give when computed
independently in plain Python (tests/support/oracle.py): same grain rows, numbers within 1e-9
relative error, NULL exactly where the reference has NULL. Hand-derived spot values (the
published 5-school CV, a 341's asset share, retention above 100 %) guard against a shared
misreading of the spec.
Also: jurisdiction handling of submission_status, the dbt unit test, and dbt docs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import psycopg
import pytest
import yaml

from edustat.transform import DbtResult, dbt_build, dbt_docs_generate
from fixtures.dbt import sample_province
from fixtures.dbt.marts_db import (
    assert_rows_match,
    columns_of,
    create_warehouse,
    drop_warehouse,
    fetch,
    same,
)
from fixtures.dbt.sample_province import A, B, C, D, E
from fixtures.dbt.warehouse_rows import WarehouseWriter
from support import oracle

REPO = Path(__file__).resolve().parents[1]

# docs/interface.md, "Marts": the columns every ministry query may rely on.
INTERFACE_COLUMNS: dict[str, list[str]] = {
    "school_indicators": [
        "school_year", "school_code", "section", "county_code", "school_name", "school_type",
        "urban_rural", "students", "classes", "teachers", "qualified_teachers_per_100",
        "backbone_teachers_per_100", "pe_arts_teachers_per_100", "teaching_area_per_student",
        "sports_area_per_student", "equipment_value_per_student", "multimedia_rooms_per_100",
        "indicators_met", "compliant", "in_balance_scope"],
    "county_indicator_cv": [
        "school_year", "county_code", "section", "method", "indicator", "schools", "students",
        "county_value", "std_dev", "cv", "cv_limit", "cv_ok"],
    "county_multimedia_coverage": [
        "school_year", "county_code", "schools", "classrooms", "multimedia_classrooms",
        "coverage_ratio", "schools_fully_covered", "fully_covered_share",
        "multimedia_rooms_per_100"],
    "county_broadband": [
        "school_year", "county_code", "schools", "schools_connected", "connected_share",
        "schools_100mbps_plus", "share_100mbps_plus", "schools_10mbps_plus", "share_10mbps_plus",
        "median_bandwidth_mbps", "kbps_per_student"],
    "county_teacher_ratios": [
        "school_year", "county_code", "section", "students", "teachers", "student_teacher_ratio",
        "qualified_teachers_per_100", "backbone_teachers_per_100", "pe_arts_teachers_per_100",
        "senior_title_share"],
    "county_balance_readiness": [
        "school_year", "county_code", "school_sections", "compliant_sections", "compliant_share",
        "cv_ok_primary", "cv_ok_junior", "oversize_class_schools", "large_classes",
        "oversize_schools", "music_art_room_shortfall_schools", "junior_retention_rate",
        "retention_ok", "ready", "gaps"],
    "school_resource_gaps": [
        "school_year", "school_code", "section", "indicator", "county_code", "value", "threshold",
        "shortfall"],
    "region_summary": ["school_year", "region_level", "region_code"],
    "submission_status": [
        "county_code", "school_year", "status", "accepted_submission_id", "accepted_at",
        "warnings", "replaced_submission_id", "last_rejected_submission_id", "last_rejected_at",
        "last_rejection_reason"],
}
COUNTY_TABLES = [t for t in INTERFACE_COLUMNS if t not in ("region_summary",)]


@dataclass
class Built:
    dsn: str
    target: Path
    result: DbtResult
    sample: sample_province.SampleProvince
    writer: WarehouseWriter
    expected: oracle.Expected


def qinghai_counties(dsn: str, provinces: tuple[str, ...] = ("63",)) -> dict[str, str]:
    """County units and names, read from the loaded divisions seed (name lookups only)."""
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute(
            "SELECT division_code, division_name FROM reference.divisions"
            " WHERE is_county_unit AND left(division_code, 2) = ANY(%s)",
            (list(provinces),),
        ).fetchall())


@pytest.fixture(scope="module")
def built(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    dsn = create_warehouse(pg_server)
    try:
        writer = WarehouseWriter(dsn)
        sample = sample_province.load(writer)
        target = tmp_path_factory.mktemp("dbt_marts")
        result = dbt_build(dsn, target)
        assert result.ok, result.summary() + "\n" + result.output
        counties = qinghai_counties(dsn)
        assert len(counties) == 45
        expected = oracle.compute(writer.files, counties, counties)
        yield Built(dsn, target, result, sample, writer, expected)
    finally:
        drop_warehouse(pg_server, dsn)


def mart(built: Built, table: str, keys: list[str]) -> dict[tuple, dict]:
    return fetch(built.dsn, f"marts.{table}", keys)


# ------------------------------------------------------------------------------ the build

def test_build_runs_seeds_models_unit_and_data_tests(built: Built) -> None:
    results = json.loads((built.target / "run_results.json").read_text())["results"]
    by_type: dict[str, list[str]] = {}
    for r in results:
        by_type.setdefault(r["unique_id"].split(".")[0], []).append(r["status"])
    assert by_type["unit_test"] == ["pass"]  # the published 5-school CV example
    assert set(by_type["test"]) == {"pass"} and len(by_type["test"]) > 60
    assert set(by_type["model"]) == {"success"} and len(by_type["model"]) == 27
    assert len(by_type["seed"]) == 7
    assert not built.result.failed and built.result.returncode == 0


def test_every_mart_has_the_interface_columns(built: Built) -> None:
    for table, required in INTERFACE_COLUMNS.items():
        present = columns_of(built.dsn, "marts", table)
        assert present, f"marts.{table} missing"
        assert not set(required) - set(present), (table, set(required) - set(present))
    for table in COUNTY_TABLES:
        present = columns_of(built.dsn, "marts", table)
        for column in ("school_year", "county_code", "county_name", "prefecture_code",
                       "province_code"):
            assert column in present, (table, column)


def test_documented_columns_are_the_built_columns(built: Built) -> None:
    schemas = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}
    for folder, schema in schemas.items():
        yml = next((REPO / "dbt_project" / "models" / folder).glob("_*__models.yml"))
        for model in yaml.safe_load(yml.read_text(encoding="utf-8"))["models"]:
            documented = [c["name"] for c in model["columns"]]
            built_columns = columns_of(built.dsn, schema, model["name"])
            assert built_columns, f"{schema}.{model['name']} not built"
            assert sorted(documented) == sorted(built_columns), (
                model["name"], set(built_columns) ^ set(documented))


# ---------------------------------------------------------------------- every mart vs Python

# Each mart's grain, in the order of the oracle's keys.
GRAINS: dict[str, list[str]] = {
    "school_indicators": ["school_year", "school_code", "section"],
    "county_indicator_cv": ["school_year", "county_code", "section", "method", "indicator"],
    "county_multimedia_coverage": ["school_year", "county_code"],
    "county_broadband": ["school_year", "county_code"],
    "county_teacher_ratios": ["school_year", "county_code", "section"],
    "county_balance_readiness": ["school_year", "county_code"],
    "school_resource_gaps": ["school_year", "school_code", "section", "indicator"],
    "region_summary": ["school_year", "region_level", "region_code"],
    "county_urban_rural": ["school_year", "county_code", "section", "area", "indicator"],
    "region_urban_rural": ["school_year", "region_level", "region_code", "section", "area",
                           "indicator"],
    "county_school_changes": ["school_year", "county_code"],
    "submission_status": ["county_code", "school_year"],
}
# Marts whose sample must be large enough to mean something (values compared).
AT_LEAST_COMPARED = {"school_indicators": 500, "county_urban_rural": 500}
# The oracle also says whether a retention base is missing; the mart shows it through `gaps`.
NOT_A_COLUMN = {"county_balance_readiness": {"retention_base_missing"}}


@pytest.mark.parametrize("name", sorted(GRAINS))
def test_every_mart_matches_the_reference(built: Built, name: str) -> None:
    expected = built.expected[name]
    actual = mart(built, name, GRAINS[name])
    columns = [c for c in next(iter(expected.values())) if c not in NOT_A_COLUMN.get(name, ())]
    compared = assert_rows_match(name, actual, expected, columns)
    assert compared >= AT_LEAST_COMPARED.get(name, 1)


def test_every_mart_is_checked_against_the_reference(built: Built) -> None:
    declared = yaml.safe_load((REPO / "dbt_project/models/marts/_marts__models.yml"
                               ).read_text(encoding="utf-8"))["models"]
    assert set(GRAINS) == set(built.expected) == {m["name"] for m in declared}


def test_submission_status_lists_every_expected_county_year(built: Built) -> None:
    actual = mart(built, "submission_status", GRAINS["submission_status"])
    assert len(actual) == 45 * 5  # every Qinghai county unit × 2014, 2019, 2020, 2022, 2023



# ------------------------------------------------------------- hand-derived spot values

def test_published_moe_example_gives_cv_0_5153(built: Built) -> None:
    row = mart(built, "county_indicator_cv",
               ["school_year", "county_code", "section", "method", "indicator"]
               )[(2023, C, "primary", "2012", "books_per_student")]
    assert row["schools"] == 5 and row["students"] == 302
    assert abs(Fraction(row["county_value"]) - Fraction(1913, 302)) < Fraction(1, 10**15)
    assert round(row["std_dev"], 4) == Fraction("3.2639")
    assert round(row["cv"], 4) == Fraction("0.5153")  # unweighted would give 0.489 / 0.546
    assert row["cv_limit"] is None and row["cv_ok"] is None


def test_asset_shares_sections_and_scope_by_hand(built: Built) -> None:
    rows = mart(built, "school_indicators", ["school_year", "school_code", "section"])
    complete = rows[(2023, "6301020003", "junior")]  # 341: 500 初中 + 500 高中
    assert complete["asset_share"] == Fraction(1, 2)
    assert complete["teaching_area_per_student"] == Fraction("4000.5") / 2 / 500  # 4.0005 < 4.93
    assert (complete["indicators_met"], complete["compliant"]) == (6, False)
    assert (2023, "6301020003", "primary") not in rows
    nine_year = rows[(2023, "6301020002", "junior")]  # 5.0 ㎡ vs 5.8: 86 % of it, still compliant
    assert nine_year["teaching_area_per_student"] == 5
    assert (nine_year["indicators_met"], nine_year["compliant"]) == (6, True)
    assert rows[(2023, "6301020004", "primary")]["indicators_met"] == 5
    assert (2023, "6301020006", "junior") not in rows  # 312 without junior students
    point = rows[(2023, "6301020005", "primary")]
    assert point["in_balance_scope"] is False
    cv = mart(built, "county_indicator_cv",
              ["school_year", "county_code", "section", "method", "indicator"])
    # 211, 312, 345 and the junior-less 312 — not the 218 teaching point.
    assert cv[(2023, A, "primary", "2017", "teaching_area_per_student")]["schools"] == 4
    for key, row in cv.items():
        if key[1] == B:  # a county with a single school
            assert row["cv"] == 0 and (row["std_dev"] is None or row["std_dev"] == 0)


def test_undefined_cv_is_null_and_fails_readiness(built: Built) -> None:
    cv = mart(built, "county_indicator_cv",
              ["school_year", "county_code", "section", "method", "indicator"])
    row = cv[(2023, C, "primary", "2017", "backbone_teachers_per_100")]  # no backbone at all
    assert row["county_value"] == 0 and row["cv"] is None and row["cv_ok"] is None
    ready = mart(built, "county_balance_readiness", ["school_year", "county_code"])[(2023, C)]
    assert ready["cv_ok_primary"] is False and ready["cv_ok_junior"] is None
    assert "每百名学生拥有县级以上骨干教师数 无法计算" in ready["gaps"]


def test_retention_is_uncapped_and_null_without_year_minus_3(built: Built) -> None:
    rows = mart(built, "county_balance_readiness", ["school_year", "county_code"])
    assert same(rows[(2022, A)]["junior_retention_rate"],
                Fraction(65 + 160 + 100 + 712, 60 + 150 + 100 + 700))
    assert rows[(2022, A)]["junior_retention_rate"] > 1 and rows[(2022, A)]["retention_ok"]
    assert rows[(2023, A)]["junior_retention_rate"] is None
    assert rows[(2023, A)]["retention_ok"] is None
    assert "缺少2020年的数据" in rows[(2023, A)]["gaps"]
    assert same(rows[(2023, B)]["junior_retention_rate"], Fraction(97, 100))


def test_readiness_and_gaps_in_chinese(built: Built) -> None:
    rows = mart(built, "county_balance_readiness", ["school_year", "county_code"])
    assert rows[(2023, B)]["ready"] is True and rows[(2023, B)]["gaps"] is None
    # Unknown retention is reported without blocking readiness (docs/interface.md).
    assert rows[(2020, B)]["ready"] is True
    assert rows[(2020, B)]["gaps"] == "初中三年巩固率无法计算：缺少2017年的数据"
    a = rows[(2023, A)]
    assert a["ready"] is False
    assert (a["school_sections"], a["compliant_sections"]) == (8, 5)
    assert (a["oversize_class_schools"], a["large_classes"], a["oversize_schools"],
            a["music_art_room_shortfall_schools"]) == (1, 2, 1, 1)
    for fragment in ("3个学校学段资源配置未达标", "达标5/8", "1所学校班额超标",
                     "大班额（56人及以上）2个", "1所学校规模超标", "音乐或美术专用教室不足"):
        assert fragment in a["gaps"], fragment
    assert "小学校际差异系数未达标" in rows[(2019, A)]["gaps"]


def test_resubmission_is_what_the_marts_serve(built: Built) -> None:
    schools = mart(built, "school_indicators", ["school_year", "school_code", "section"])
    assert schools[(2023, "6302020001", "primary")]["students"] == 320
    assert schools[(2023, "6302020003", "primary")]["submission_id"] == \
        built.sample.e_resubmission
    coverage = mart(built, "county_multimedia_coverage", ["school_year", "county_code"])
    assert coverage[(2023, E)]["schools"] == 3


def test_submission_status_by_hand(built: Built) -> None:
    rows = mart(built, "submission_status", ["county_code", "school_year"])
    d = rows[(D, 2023)]
    assert d["status"] == "rejected" and d["accepted_submission_id"] is None
    assert d["last_rejected_submission_id"] == built.sample.d_last_rejected
    assert d["last_rejection_reason"] == "学校标识码重复 / duplicate school_code"
    e = rows[(E, 2023)]
    assert (e["status"], e["accepted_submission_id"], e["replaced_submission_id"],
            e["last_rejected_submission_id"], e["warnings"]) == (
        "accepted", built.sample.e_resubmission, built.sample.e_first,
        built.sample.e_rejected, 2)
    assert e["county_name"] == "乐都区" and e["prefecture_code"] == "630200"
    assert rows[("630106", 2023)]["status"] == "missing"
    assert rows[(B, 2022)]["status"] == "missing"
    assert rows[(A, 2019)]["status"] == "accepted"


def test_region_levels_recomputed_from_totals(built: Built) -> None:
    rows = mart(built, "region_summary", ["school_year", "region_level", "region_code"])
    province = rows[(2023, "province", "630000")]
    counties = [r for k, r in rows.items() if k[0] == 2023 and k[1] == "county"]
    assert province["counties_reporting"] == 4 and province["region_name"] == "青海省"
    # Qinghai's 45 county units are expected (the province submitted); 海东市 has 6.
    assert province["counties_expected"] == 45
    assert rows[(2023, "prefecture", "630200")]["counties_expected"] == 6
    classrooms = sum(r["classrooms"] for r in counties)
    multimedia = sum(r["multimedia_classrooms"] for r in counties)
    assert same(province["coverage_ratio"], Fraction(multimedia, classrooms))
    # Not the mean of the county ratios (they differ with unequal sizes).
    mean_of_ratios = sum(Fraction(r["coverage_ratio"]) for r in counties) / len(counties)
    assert province["coverage_ratio"] != mean_of_ratios
    assert rows[(2023, "prefecture", "630200")]["region_name"] == "海东市"


def test_urban_rural_by_hand(built: Built) -> None:
    rows = mart(built, "county_urban_rural",
                ["school_year", "county_code", "section", "area", "indicator"])
    cv = mart(built, "county_indicator_cv",
              ["school_year", "county_code", "section", "method", "indicator"])
    area = "teaching_area_per_student"
    # 城东区 2023: no primary section in a 镇区 school in scope (the 218 is out of scope).
    empty = rows[(2023, A, "primary", "town", area)]
    assert (empty["schools"], empty["students"], empty["value"], empty["ratio_to_urban"]) == (
        0, 0, None, None)
    # Junior, rural: the 312 alone, 3000 ㎡ × 200/600 over 200 pupils = 5; urban: the 345,
    # (6·300 + 7·300 + 8·400) ㎡ × 300/1000 over 300 pupils = 7.1.
    rural = rows[(2023, A, "junior", "rural", area)]
    urban = rows[(2023, A, "junior", "urban", area)]
    assert (rural["schools"], rural["value"]) == (1, 5)
    assert (urban["schools"], urban["value"]) == (1, Fraction("7.1"))
    assert same(rural["ratio_to_urban"], Fraction(5) / Fraction("7.1"))
    assert urban["ratio_to_urban"] == 1
    # A single 镇区 school: the town value is the county value digit for digit; no urban area,
    # so no gap can be computed.
    for k in oracle.INDICATORS_2017:
        town = rows[(2023, B, "primary", "town", k)]
        assert town["value"] == cv[(2023, B, "primary", "2017", k)]["county_value"]
        assert town["ratio_to_urban"] is None
        assert rows[(2023, B, "primary", "urban", k)]["value"] is None
    # The province row is recomputed from the sections, not averaged from the counties.
    region = mart(built, "region_urban_rural",
                  ["school_year", "region_level", "region_code", "section", "area", "indicator"])
    province = region[(2023, "province", "630000", "junior", "town", area)]
    towns = [r for k, r in rows.items() if k[0] == 2023 and k[2:] == ("junior", "town", area)]
    assert province["students"] == sum(r["students"] for r in towns)


def test_schools_below_threshold_by_hand(built: Built) -> None:
    cv = mart(built, "county_indicator_cv",
              ["school_year", "county_code", "section", "method", "indicator"])
    # The 341 (4.0005 ㎡) and the 312, compliant with its 5.0 ㎡ (86 %), are both below 5.8:
    # every school to the standard has no 85 % allowance.
    assert cv[(2023, A, "junior", "2017", "teaching_area_per_student")][
        "schools_below_threshold"] == 2
    assert cv[(2023, A, "junior", "2012", "teaching_area_per_student")][
        "schools_below_threshold"] is None
    assert cv[(2023, A, "junior", "2012", "composite")]["schools_below_threshold"] is None
    # Backbone teachers: the 345's sections have none; the 218 (out of scope) is not counted.
    assert cv[(2023, A, "primary", "2017", "backbone_teachers_per_100")][
        "schools_below_threshold"] == 1
    assert cv[(2023, C, "primary", "2017", "backbone_teachers_per_100")][
        "schools_below_threshold"] == 5


def test_teachers_per_class_by_hand(built: Built) -> None:
    rows = mart(built, "county_teacher_ratios", ["school_year", "county_code", "section"])
    b = rows[(2023, B, "primary")]  # 500 pupils: ⌈500·6/100⌉ = 30 teachers, ⌈500/40⌉ = 13 classes
    assert (b["teachers"], b["classes"]) == (30, 13)
    assert same(b["teachers_per_class"], Fraction(30, 13))


def test_nine_year_retention_by_hand(built: Built) -> None:
    rows = mart(built, "county_balance_readiness", ["school_year", "county_code"])
    b = rows[(2023, B)]
    assert same(b["compulsory_retention_rate"], Fraction(97, 110))
    assert b["compulsory_retention_ok"] is False
    assert b["ready"] is True and b["gaps"] is None  # the nine-year rate does not block
    assert rows[(2020, B)]["compulsory_retention_rate"] is None  # no 2011 file
    # 城西区 2014 has no 小学一年级招生数 column: unknown, never 0.
    assert rows[(2023, C)]["compulsory_retention_rate"] is None
    assert rows[(2023, C)]["compulsory_retention_ok"] is None


def test_ready_and_gaps_read_the_same_conditions(built: Built) -> None:
    rows = mart(built, "county_balance_readiness", ["school_year", "county_code"])
    legacy = rows[(2019, B)]  # one 大班额 reported with largest classes of 42 and 48
    assert legacy["oversize_class_schools"] == 0 and legacy["large_classes"] == 1
    assert legacy["ready"] is False
    assert legacy["gaps"] == "大班额（56人及以上）1个；初中三年巩固率无法计算：缺少2016年的数据"
    for row in rows.values():
        assert row["large_classes"] == 0 or not row["ready"]
        assert (row["large_classes"] > 0) == ("大班额" in (row["gaps"] or ""))


def test_school_changes_by_hand(built: Built) -> None:
    rows = mart(built, "county_school_changes", ["school_year", "county_code"])
    e = rows[(2023, E)]
    assert (e["schools"], e["schools_opened"], e["schools_closed"]) == (3, 1, 1)
    assert e["opened_school_codes"] == ["6302020003"]
    assert e["closed_school_codes"] == ["6302020009"]
    first = rows[(2022, E)]  # no 2021 file: nothing can be said about openings
    assert first["previous_year_available"] is False
    assert first["schools_opened"] is None and first["opened_school_codes"] is None
    assert (first["small_schools"], first["rural_schools"]) == (1, 1)
    same_schools = rows[(2023, A)]  # the 2022 schools again: zero, not unknown
    assert (same_schools["schools_opened"], same_schools["schools_closed"]) == (0, 0)
    assert same_schools["opened_school_codes"] == []


# --------------------------------------------------------------------------- jurisdiction

def test_jurisdiction_var_and_env_choose_the_expected_counties(
        built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def status_counties() -> set[str]:
        with psycopg.connect(built.dsn) as conn:
            return {r[0] for r in conn.execute(
                "SELECT DISTINCT county_code FROM marts.submission_status").fetchall()}

    # Builds reuse the module's target dir where they can: dbt's partial parsing then skips
    # most of the parse (a change of --vars always forces a full one).
    select = "int_counties_expected+"
    try:
        monkeypatch.setenv("EDUSTAT_JURISDICTION", "62, 63")
        result = dbt_build(built.dsn, built.target, select=select)
        assert result.ok, result.summary()
        both = set(qinghai_counties(built.dsn, ("62", "63")))
        assert status_counties() == both and len(both) > 45
        # var('jurisdiction') wins over the environment.
        result = dbt_build(built.dsn, tmp_path / "national", select=select,
                           vars={"jurisdiction": "national"})
        assert result.ok, result.summary()
        with psycopg.connect(built.dsn) as conn:
            units = conn.execute(
                "SELECT count(*) FROM reference.divisions WHERE is_county_unit").fetchone()[0]
        assert len(status_counties()) == units
    finally:
        monkeypatch.delenv("EDUSTAT_JURISDICTION")
        result = dbt_build(built.dsn, built.target, select=select)
        assert result.ok, result.summary()
    assert status_counties() == set(qinghai_counties(built.dsn))


# ----------------------------------------------------------------------------- documentation

def test_docs_generate_and_comments_for_ministries(built: Built) -> None:
    index = dbt_docs_generate(built.dsn, built.target)
    assert index.name == "index.html" and index.stat().st_size > 10_000
    catalog = json.loads((index.parent / "catalog.json").read_text())
    assert "model.edustat.county_indicator_cv" in catalog["nodes"]
    with psycopg.connect(built.dsn) as conn:
        table_comment = conn.execute(
            "SELECT obj_description('marts.county_indicator_cv'::regclass)").fetchone()[0]
        column_comment = conn.execute(
            "SELECT col_description('marts.county_indicator_cv'::regclass, attnum)"
            " FROM pg_attribute WHERE attrelid = 'marts.county_indicator_cv'::regclass"
            " AND attname = 'cv'").fetchone()[0]
    assert "差异系数" in table_comment and "student-weighted" in table_comment
    assert column_comment.startswith("差异系数")
    assert not (REPO / "dbt_project" / "target").exists()
    assert not (REPO / "dbt_project" / "logs").exists()


def test_first_year_var_sets_the_years_owed(built: Built, tmp_path: Path) -> None:
    """dbt reads the warehouse's one rule (ops.county_year_status) with var('first_year'):
    every county owes every year from it on; the mart equals what `edustat status` reads."""
    def years() -> list[int]:
        with psycopg.connect(built.dsn) as conn:
            return [r[0] for r in conn.execute(
                "SELECT DISTINCT school_year FROM marts.submission_status ORDER BY 1")]

    submitted = years()
    select = "int_counties_expected+"
    try:
        result = dbt_build(built.dsn, tmp_path / "first", select=select,
                           vars={"first_year": min(submitted) - 2})
        assert result.ok, result.summary()
        assert years() == list(range(min(submitted) - 2, max(submitted) + 1))
        with psycopg.connect(built.dsn) as conn:
            mart = set(conn.execute(
                "SELECT county_code, school_year, status FROM marts.submission_status"))
            function = set(conn.execute(
                """SELECT county_code, school_year, status FROM ops.county_year_status(
                       NULL, %s) WHERE in_jurisdiction""", (min(submitted) - 2,)))
        assert mart == function
        bad = dbt_build(built.dsn, tmp_path / "bad", select=select, vars={"first_year": "20x"})
        assert not bad.ok and "first_year: '20x' is not a 4-digit school year" in bad.output
    finally:
        result = dbt_build(built.dsn, built.target, select=select)
        assert result.ok, result.summary()
    assert years() == submitted
