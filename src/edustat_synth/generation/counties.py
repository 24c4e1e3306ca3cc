"""County units from the divisions seed, and the traits that make one county's schools differ.

Each county gets a deterministic profile (from the seed and its code): how urban it is, how many
schools it runs, how rich and how balanced it is. The numbers are tuned so that a province's
totals look like the real one (Qinghai ~1,500-2,200 schools; the country ~270,000 school rows)
and so that the 2017 indicators land near their thresholds: some counties pass, others fail.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from edustat.config import REPO_ROOT

DIVISIONS_CSV = REPO_ROOT / "dbt_project" / "seeds" / "divisions.csv"

# Base-year (2018) school rows for the whole country; closures bring later years to ~270,000
# (143,500 小学 + 77,000 教学点 + 52,300 初中 in 2023).
NATIONAL_SCHOOLS = 275_000
# Below this a county file would not look like a county (Qinghai's smallest run ~15 schools).
MIN_SCHOOLS = 15


@dataclass(frozen=True)
class ProvinceTraits:
    population_m: float  # 2020 census, millions
    wealth: float  # relative spending power on school assets, 1.0 = national middle
    teaching_points: float  # propensity to keep 教学点 (mountainous, dispersed villages)
    crowding: float  # share of city schools that still run 56+ classes (大班额)


# Why a table: school counts follow population (sub-linearly: sparse provinces keep more small
# schools per head), asset levels follow public spending, 教学点 follow terrain.
PROVINCES: dict[str, ProvinceTraits] = {
    "11": ProvinceTraits(21.9, 1.60, 0.2, 0.02),
    "12": ProvinceTraits(13.9, 1.30, 0.3, 0.03),
    "13": ProvinceTraits(74.6, 0.90, 1.0, 0.12),
    "14": ProvinceTraits(34.9, 0.90, 1.2, 0.06),
    "15": ProvinceTraits(24.0, 1.05, 0.6, 0.04),
    "21": ProvinceTraits(42.6, 0.95, 0.6, 0.04),
    "22": ProvinceTraits(24.1, 0.92, 0.8, 0.04),
    "23": ProvinceTraits(31.9, 0.90, 0.8, 0.04),
    "31": ProvinceTraits(24.9, 1.60, 0.1, 0.02),
    "32": ProvinceTraits(84.7, 1.35, 0.4, 0.06),
    "33": ProvinceTraits(64.6, 1.40, 0.5, 0.04),
    "34": ProvinceTraits(61.0, 0.95, 1.1, 0.12),
    "35": ProvinceTraits(41.5, 1.20, 1.0, 0.06),
    "36": ProvinceTraits(45.2, 0.92, 1.3, 0.12),
    "37": ProvinceTraits(101.5, 1.05, 0.6, 0.10),
    "41": ProvinceTraits(99.4, 0.85, 1.4, 0.18),
    "42": ProvinceTraits(57.8, 1.00, 1.1, 0.10),
    "43": ProvinceTraits(66.4, 0.92, 1.4, 0.14),
    "44": ProvinceTraits(126.0, 1.25, 0.9, 0.10),
    "45": ProvinceTraits(50.1, 0.80, 1.5, 0.12),
    "46": ProvinceTraits(10.1, 0.95, 1.1, 0.06),
    "50": ProvinceTraits(32.1, 1.00, 1.0, 0.08),
    "51": ProvinceTraits(83.7, 0.90, 1.2, 0.08),
    "52": ProvinceTraits(38.6, 0.82, 1.4, 0.10),
    "53": ProvinceTraits(47.2, 0.82, 1.5, 0.08),
    "54": ProvinceTraits(3.6, 1.00, 1.2, 0.02),
    "61": ProvinceTraits(39.5, 0.95, 1.0, 0.08),
    "62": ProvinceTraits(25.0, 0.78, 1.4, 0.06),
    "63": ProvinceTraits(5.9, 0.90, 1.0, 0.04),
    "64": ProvinceTraits(7.2, 0.95, 1.1, 0.06),
    "65": ProvinceTraits(25.9, 1.00, 0.8, 0.06),
}
_DEFAULT_PROVINCE = ProvinceTraits(30.0, 1.0, 1.0, 0.06)
# Their districts are all city: far fewer schools per head than a province's counties.
_MUNICIPALITIES = frozenset({"11", "12", "31"})


@dataclass(frozen=True)
class CountyUnit:
    code: str
    name: str
    province: str  # 2 digits
    province_name: str
    prefecture_code: str
    prefecture_name: str
    index_in_province: int  # rank by code among the province's county units: its code block


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@cache
def load_county_units(path: Path = DIVISIONS_CSV) -> tuple[CountyUnit, ...]:
    """All county-level units (is_county_unit == true), sorted by code."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = sorted(
            (r for r in csv.DictReader(fh) if r["is_county_unit"].strip().lower() == "true"),
            key=lambda r: r["division_code"],
        )
    units: list[CountyUnit] = []
    seen: dict[str, int] = {}
    for r in rows:
        province = r["division_code"][:2]
        index = seen.get(province, 0)
        seen[province] = index + 1
        units.append(
            CountyUnit(
                code=r["division_code"],
                name=r["division_name"],
                province=province,
                province_name=r["province_name"],
                prefecture_code=r["prefecture_code"] or r["province_code"],
                prefecture_name=r["prefecture_name"] or r["province_name"],
                index_in_province=index,
            )
        )
    return tuple(units)


def province_traits(province: str) -> ProvinceTraits:
    return PROVINCES.get(province, _DEFAULT_PROVINCE)


def base_urbanity(unit: CountyUnit) -> float:
    """0 = remote rural county, 1 = city core, from the unit's name and code.

    Municipal districts (区) are numbered from the core outwards (xx02 is the old town, xx1x are
    former counties); county-level cities (市) are towns with a rural hinterland.
    """
    suffix = int(unit.code[4:6])
    if unit.name.endswith("区"):
        if suffix <= 21:
            return _clamp(0.98 - 0.07 * (suffix - 2), 0.35, 0.98)
        return 0.4  # 林区, 新区, 行政区 with special numbering: small towns
    if unit.name.endswith("市"):
        return 0.45
    return 0.15


def _size_multiplier(urbanity: float) -> float:
    # City districts run fewer, larger schools than rural counties.
    return 1.2 - 0.8 * urbanity


@cache
def _schools_per_county() -> dict[str, float]:
    """Mean base-year school count per county, by province, scaled to the national total."""
    units = load_county_units()
    counts: dict[str, int] = {}
    for u in units:
        counts[u.province] = counts.get(u.province, 0) + 1
    raw = {
        p: (province_traits(p).population_m / n) ** 0.75 * (0.55 if p in _MUNICIPALITIES else 1.0)
        for p, n in counts.items()
    }
    expected = sum(raw[u.province] * _size_multiplier(base_urbanity(u)) for u in units)
    scale = NATIONAL_SCHOOLS / expected
    return {p: raw[p] * scale for p in raw}


@cache
def _density(province: str) -> float:
    """School-size multiplier: dense provinces fill bigger schools."""
    units = load_county_units()
    n = sum(1 for u in units if u.province == province) or 1
    national = sum(p.population_m for p in PROVINCES.values()) / len(units)
    per_county = province_traits(province).population_m / n
    return _clamp((per_county / national) ** 0.3, 0.75, 1.3)


@dataclass(frozen=True)
class CountyProfile:
    urbanity: float
    n_schools: int
    school_size: float  # multiplier on school enrolment
    wealth: float
    balance_sigma: float  # spread between schools: drives the 差异系数
    retention: float  # junior graduates / intake three years before
    primary_ratio: float  # student-teacher ratio the county staffs to
    junior_ratio: float
    qualified_primary: float  # share of teachers above the required degree
    qualified_junior: float
    senior_title: float
    backbone: float
    pe_arts: float
    teaching_area_level: float  # multipliers on the 2017 thresholds
    sports_area_level: float
    equipment_level: float
    books_per_student: float
    computers_per_100: float
    multimedia_coverage: float  # share of classrooms equipped in the base year
    room_shortfall: float  # chance a school lacks a music or art room it needs
    teaching_point_bias: float
    crowding: float
    primary_trend: float  # yearly enrolment factor
    junior_trend: float
    bandwidth_shift: int  # steps up or down the bandwidth ladder


def make_profile(unit: CountyUnit, seed: int) -> CountyProfile:
    rng = random.Random(f"edustat:{seed}:profile:{unit.code}")
    prov = province_traits(unit.province)
    urbanity = _clamp(base_urbanity(unit) + rng.gauss(0, 0.06), 0.05, 0.98)

    mean = _schools_per_county()[unit.province] * _size_multiplier(urbanity)
    sigma = 0.42
    high = math.floor(2.6 * _schools_per_county()[unit.province])
    n_schools = round(_clamp(mean * math.exp(rng.gauss(0, sigma) - sigma**2 / 2),
                             MIN_SCHOOLS, high))

    wealth = prov.wealth * math.exp(rng.gauss(0, 0.15)) * (0.9 + 0.3 * urbanity)
    rich = _clamp(wealth / 1.3, 0.4, 1.0)
    # Most counties are fairly balanced; a long tail is not (CV above 0.50 / 0.45).
    balance_sigma = 0.12 + 0.5 * rng.random() ** 1.3
    # A few counties gain pupils between 初一 and graduation (in-migration): retention > 100 %.
    retention = (
        rng.uniform(1.0, 1.035) if rng.random() < 0.12 + 0.1 * urbanity
        else rng.uniform(0.915, 0.995)
    )
    trend = 0.04 * urbanity - 0.03 + rng.gauss(0, 0.01)
    return CountyProfile(
        urbanity=urbanity,
        n_schools=n_schools,
        school_size=_density(unit.province) * math.exp(rng.gauss(0, 0.15)),
        wealth=wealth,
        balance_sigma=balance_sigma,
        retention=retention,
        primary_ratio=_clamp(13.0 + 6.5 * urbanity + rng.gauss(0, 1.0), 11.0, 19.5),
        junior_ratio=_clamp(10.0 + 4.5 * urbanity + rng.gauss(0, 0.8), 9.0, 15.5),
        qualified_primary=_clamp(0.56 + 0.36 * rich + rng.gauss(0, 0.05), 0.5, 0.99),
        qualified_junior=_clamp(0.58 + 0.32 * rich + rng.gauss(0, 0.05), 0.5, 0.98),
        senior_title=_clamp(rng.uniform(0.35, 0.6), 0.3, 0.7),
        backbone=rng.uniform(0.07, 0.2),
        pe_arts=rng.uniform(0.09, 0.17),
        teaching_area_level=_clamp(0.75 + 0.5 * rich + rng.gauss(0, 0.12), 0.6, 1.6),
        sports_area_level=_clamp(0.7 + 0.5 * rich + rng.gauss(0, 0.15), 0.5, 1.7),
        equipment_level=_clamp(0.45 + 0.9 * rich + rng.gauss(0, 0.15), 0.35, 2.2),
        books_per_student=rng.uniform(18, 38),
        computers_per_100=_clamp(6 + 12 * rich + rng.gauss(0, 2), 4, 25),
        multimedia_coverage=_clamp(0.55 + 0.4 * rich + rng.gauss(0, 0.06), 0.45, 1.0),
        room_shortfall=_clamp(0.55 - 0.5 * rich + rng.gauss(0, 0.05), 0.02, 0.5),
        teaching_point_bias=prov.teaching_points * math.exp(rng.gauss(0, 0.35)),
        crowding=prov.crowding * rng.uniform(0.0, 1.6),
        primary_trend=1 + _clamp(trend, -0.06, 0.04),
        junior_trend=1 + _clamp(trend + 0.015, -0.05, 0.05),
        bandwidth_shift=round(_clamp(rng.gauss((rich - 0.7) * 3, 0.7), -2, 2)),
    )
