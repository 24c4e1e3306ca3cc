"""Division names and county lists from the divisions seed, read once per process.

The seed (dbt_project/seeds/divisions.csv) is the one list of Chinese divisions; this module
lets Python code (alerts, CLI status, reports) use it without the warehouse: the
`marts` tables may not exist yet, and an alert must still name the county.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from edustat.config import REPO_ROOT

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


def expected_counties(
    jurisdiction: Iterable[str] | None, submitted: Iterable[str]
) -> list[str]:
    """The counties expected to submit (interface.md, EDUSTAT_JURISDICTION).

    `national` means every county unit; province codes (`63`, `630000`) mean theirs; with no
    jurisdiction configured, the provinces that appear among the submitting county codes.
    """
    wanted = [p.strip() for p in jurisdiction or () if p.strip()]
    if any(p.lower() == "national" for p in wanted):
        return all_county_units()
    if not wanted:
        wanted = [str(code).strip()[:2] for code in submitted if str(code).strip()]
    return _county_units_in({p[:2] for p in wanted})


def _county_units_in(provinces: set[str]) -> list[str]:
    return sorted(
        d.code for d in load_divisions().values() if d.is_county_unit and d.code[:2] in provinces
    )
