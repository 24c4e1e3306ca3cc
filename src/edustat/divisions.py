"""Division names and county lists from the divisions seed, read once per process.

The seed (dbt_project/seeds/divisions.csv) is the one list of Chinese divisions; this module
lets Python code (alerts, contacts, reports) use it without the warehouse: the `marts` tables
may not exist yet, and an alert must still name the county. `sync_divisions_table` copies it
into ops.divisions, which the warehouse's own definition of the counties expected to submit
(ops.expected_county_years, schema.sql) reads.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from edustat.config import REPO_ROOT

if TYPE_CHECKING:
    import psycopg

SEED_PATH = REPO_ROOT / "dbt_project" / "seeds" / "divisions.csv"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # province | prefecture | county
    province_code: str
    province_name: str
    prefecture_code: str
    prefecture_name: str
    is_county_unit: bool  # submits as a county (includes the prefecture cities with no counties)


@lru_cache(maxsize=4)
def load_divisions(path: Path = SEED_PATH) -> dict[str, Division]:
    """All divisions by 6-digit code, in seed order."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["division_code"]: Division(
                code=row["division_code"],
                name=row["division_name"],
                level=row["division_level"],
                province_code=row["province_code"],
                province_name=row["province_name"],
                prefecture_code=row["prefecture_code"],
                prefecture_name=row["prefecture_name"],
                is_county_unit=row["is_county_unit"].strip().lower() == "true",
            )
            for row in csv.DictReader(handle)
        }


def division(code: str | int | None) -> Division | None:
    if code is None:
        return None
    return load_divisions().get(str(code).strip())


def county_name(code: str | int | None) -> str:
    """The division's name (`城中区`), or "" when the code is not a known division."""
    found = division(code)
    return found.name if found else ""


def province_counties(province: str | int) -> list[str]:
    """County-unit codes of a province, sorted; accepts `63` or `630000`."""
    return _county_units_in({str(province).strip()[:2]})


def all_county_units() -> list[str]:
    """Every county-unit code in the country, sorted."""
    return sorted(d.code for d in load_divisions().values() if d.is_county_unit)


def _county_units_in(provinces: set[str]) -> list[str]:
    return sorted(
        d.code for d in load_divisions().values() if d.is_county_unit and d.code[:2] in provinces
    )


_COLUMNS = ("division_code", "division_name", "division_level", "province_code",
            "province_name", "prefecture_code", "prefecture_name", "is_county_unit")


def sync_divisions_table(conn: psycopg.Connection, path: Path = SEED_PATH) -> bool:
    """Make ops.divisions a copy of the seed; True when it had to be (re)loaded.

    The seed's SHA-256 is kept as the table's comment, so the nightly bootstrap costs one
    catalog lookup when nothing changed.
    """
    data = path.read_bytes()
    stamp = "sha256:" + hashlib.sha256(data).hexdigest()
    current = conn.execute("SELECT obj_description('ops.divisions'::regclass, 'pg_class')"
                           ).fetchone()[0]
    if current == stamp:
        return False
    conn.execute("DELETE FROM ops.divisions")
    with conn.cursor().copy(
            f"COPY ops.divisions ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT csv, HEADER MATCH)"
    ) as copy:
        copy.write(data)
    conn.execute(f"COMMENT ON TABLE ops.divisions IS '{stamp}'")
    return True
