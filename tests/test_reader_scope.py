"""Per-province readers: `edustat grant --province 63 NAME` sees only province 63's mart rows.

Protects: a province-scoped login that reads another province's rows (county-, province- and
region-keyed tables), a table without a code column leaking to it, a nightly publish that
swaps in tables without the row-level security, and unscoped ministry_reader members losing
rows. Two provinces, real logins, real publish; every role is unique and dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from edustat.warehouse import publish

EDUSTAT = str(Path(sys.executable).parent / "edustat")

TABLES = {
    "county_x": ("county_code text, school_year int", ["('630102', 2025)", "('620102', 2025)"]),
    "prov_x": ("province_code text, county_code text",
               ["('630000', '630102')", "('620000', '620102')"]),
    "region_x": ("region_level text, region_code text",
                 ["('province', '630000')", "('prefecture', '620100')", "('county', '630102')"]),
    "no_code_x": ("label text", ["('everyone')"]),
}

SHOWN = {"county_x": "county_code", "prov_x": "province_code", "region_x": "region_code",
         "no_code_x": "label"}


@pytest.fixture(autouse=True)
def _tables_are_marts(monkeypatch: pytest.MonkeyPatch) -> None:
    """publish keeps only the dbt project's marts: here the tables above stand for them."""
    monkeypatch.setattr(publish, "mart_models", lambda: set(TABLES))


def _build_and_publish(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {publish.NEXT} CASCADE")
        conn.execute(f"CREATE SCHEMA {publish.NEXT}")
        for table, (columns, rows) in TABLES.items():
            conn.execute(f"CREATE TABLE {publish.NEXT}.{table} ({columns})")
            conn.execute(f"INSERT INTO {publish.NEXT}.{table} VALUES {', '.join(rows)}")
            conn.execute(f"GRANT SELECT ON {publish.NEXT}.{table} TO ministry_reader")
    publish.publish(dsn)


@pytest.fixture
def roles(warehouse: str) -> Iterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    names = {"scope": f"edustat_qinghai_{tag}", "scoped_login": f"edustat_alice_{tag}",
             "ministry_login": f"edustat_bob_{tag}"}
    try:
        yield names
    finally:
        with psycopg.connect(warehouse, autocommit=True) as conn:
            for name in (names["scoped_login"], names["ministry_login"], names["scope"]):
                conn.execute(f"DROP ROLE IF EXISTS {name}")


def _grant(dsn: str, role: str, *provinces: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUSTAT_")}
    env["EDUSTAT_WAREHOUSE_DSN"] = dsn
    args = [a for p in provinces for a in ("--province", p)]
    return subprocess.run([EDUSTAT, "grant", *args, role], env=env, capture_output=True,
                          text=True, timeout=120)


def _rows(dsn: str, login: str) -> dict[str, set[str]]:
    as_login = psycopg.conninfo.make_conninfo(dsn, user=login, password="pw")
    with psycopg.connect(as_login) as conn:
        return {table: {str(r[0]) for r in conn.execute(f"SELECT {column} FROM marts.{table}")}
                for table, column in SHOWN.items()}


def test_a_province_reader_sees_only_its_province(warehouse: str,
                                                  roles: dict[str, str]) -> None:
    _build_and_publish(warehouse)
    granted = _grant(warehouse, roles["scope"], "63")
    assert granted.returncode == 0, granted.stderr
    assert roles["scope"] in granted.stdout and "63" in granted.stdout
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {roles['scoped_login']} LOGIN PASSWORD 'pw' "
                     f"IN ROLE {roles['scope']}")
        conn.execute(f"CREATE ROLE {roles['ministry_login']} LOGIN PASSWORD 'pw' "
                     "IN ROLE ministry_reader")

    scoped = _rows(warehouse, roles["scoped_login"])
    assert scoped == {"county_x": {"630102"}, "prov_x": {"630000"},
                      "region_x": {"630000", "630102"}, "no_code_x": set()}
    everything = _rows(warehouse, roles["ministry_login"])
    assert everything["county_x"] == {"630102", "620102"}
    assert everything["region_x"] == {"630000", "620100", "630102"}
    assert everything["no_code_x"] == {"everyone"}

    # The next night swaps in new tables: still scoped, nobody loses rows.
    _build_and_publish(warehouse)
    assert _rows(warehouse, roles["scoped_login"]) == scoped
    assert _rows(warehouse, roles["ministry_login"]) == everything

    # Widening the scope is the same command.
    assert _grant(warehouse, roles["scope"], "63", "62").returncode == 0
    assert _rows(warehouse, roles["scoped_login"])["county_x"] == {"630102", "620102"}


def test_a_scoped_reader_cannot_read_the_scopes_or_write(warehouse: str,
                                                         roles: dict[str, str]) -> None:
    _build_and_publish(warehouse)
    assert _grant(warehouse, roles["scope"], "63").returncode == 0
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {roles['scoped_login']} LOGIN PASSWORD 'pw' "
                     f"IN ROLE {roles['scope']}")
    as_login = psycopg.conninfo.make_conninfo(warehouse, user=roles["scoped_login"],
                                              password="pw")
    with psycopg.connect(as_login, autocommit=True) as conn:
        for statement in ("SELECT * FROM ops.reader_scopes",
                          "DELETE FROM marts.county_x",
                          "ALTER TABLE marts.county_x DISABLE ROW LEVEL SECURITY",
                          "CREATE TEMP TABLE t (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
