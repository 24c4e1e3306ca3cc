"""Protects edustat.transform, the one way the platform runs dbt: the connection comes from the
DSN, results are read from run_results.json, and a failing mart test (or a dbt that cannot
start) makes the build not ok with the failing node named — never a silent success. Also that
dbt writes nothing into the working copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from edustat.transform import PROJECT_DIR, dbt_build, dbt_env, parse_run_results
from fixtures.dbt.sample_province import B, county_b
from fixtures.dbt.warehouse_rows import WarehouseWriter, school

REPO = Path(__file__).resolve().parents[1]


def test_connection_settings_come_from_the_dsn() -> None:
    env = dbt_env("postgresql://alice:s3cret@db.example:6543/warehouse?sslmode=disable",
                  base={"PATH": "/usr/bin"})
    assert (env["EDUSTAT_PG_HOST"], env["EDUSTAT_PG_PORT"], env["EDUSTAT_PG_USER"],
            env["EDUSTAT_PG_PASSWORD"], env["EDUSTAT_PG_DBNAME"]) == (
        "db.example", "6543", "alice", "s3cret", "warehouse")
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert env["PATH"] == "/usr/bin"
    profiles = (PROJECT_DIR / "profiles.yml").read_text()
    for var in ("EDUSTAT_PG_HOST", "EDUSTAT_PG_PORT", "EDUSTAT_PG_USER", "EDUSTAT_PG_PASSWORD",
                "EDUSTAT_PG_DBNAME"):
        assert f"env_var('{var}'" in profiles


def test_run_results_are_read_into_failed_and_skipped_nodes(tmp_path: Path) -> None:
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": [
        {"unique_id": "model.edustat.school_indicators", "status": "success", "message": None},
        {"unique_id": "test.edustat.unique_combination_school_indicators_x.1a2b3c",
         "status": "fail", "message": "Got 2 results, configured to fail if != 0",
         "failures": 2},
        {"unique_id": "model.edustat.region_summary", "status": "error",
         "message": "Database Error in model region_summary: division by zero"},
        {"unique_id": "model.edustat.county_broadband", "status": "skipped", "message": None},
    ]}))
    failed, skipped, count = parse_run_results(path)
    assert count == 4 and skipped == ["county_broadband"]
    assert [(f.name, f.resource_type, f.status, f.failures) for f in failed] == [
        ("unique_combination_school_indicators_x", "test", "fail", 2),
        ("region_summary", "model", "error", None)]
    assert "division by zero" in failed[1].message


def test_a_failing_mart_test_makes_the_build_not_ok(warehouse: str, tmp_path: Path) -> None:
    writer = WarehouseWriter(warehouse)
    writer.submit(B, 2023, county_b(2023))
    # The same 学校标识码 sent by two counties: each file is fine on its own (validation and
    # the intermediate grain are per county), but school_indicators' grain test must fail.
    shared_code = str(county_b(2023)[0]["school_code"])
    writer.submit("630104", 2023, [school(shared_code, "城西区小学", "211", primary=90)])
    result = dbt_build(warehouse, tmp_path / "dbt")
    assert not result.ok and result.returncode == 1
    names = result.failed_names
    assert any(n.startswith("unique_combination_school_indicators") for n in names), names
    assert not any(n.startswith("unique_combination_int_") for n in names), names
    assert all(f.message and f.resource_type == "test" for f in result.failed)
    assert "failed" in result.summary()
    # The failure is reported, not hidden behind the other marts, which were still built.
    assert result.node_count > 100 and len(result.failed) < 5
    assert not (REPO / "dbt_project" / "target").exists()
    assert not (REPO / "dbt_project" / "logs").exists()
    assert (tmp_path / "dbt" / "logs" / "dbt.log").exists()


def test_an_unreachable_warehouse_is_a_failed_build_not_an_exception(tmp_path: Path) -> None:
    result = dbt_build("postgresql://postgres@127.0.0.1:9/nowhere", tmp_path / "dbt",
                       select="stg_ops__submissions")
    assert not result.ok and result.returncode != 0
    assert result.failed and result.failed[0].message
