"""Headline and comparison figures for an area (a province, or everything in the marts).

The province figures come from `region_summary` (the marts recompute them from totals). When
a column is not there — interface.md fixes the grain of region_summary, not every column — the
same figure is recomputed here from the county marts' totals (sums of numerators over sums of
denominators, never an average of county ratios), so a page never shows a hole the marts could
fill. Per-100 and per-student county figures carry their denominator (students or teachers),
which makes the recomputation exact up to the marts' own rounding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from edustat.reports.constants import (
    INDICATORS_2017,
    SECTIONS,
    TARGET_CONNECTED_SHARE,
    TARGET_MULTIMEDIA_COVERAGE,
    TARGET_SHARE_10MBPS,
    TARGET_SHARE_100MBPS,
)
from edustat.reports.marts import Snapshot

Value = Decimal | int | None


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # pct | count | ratio | num
    target: Decimal | None = None
    unit: str = ""


HEADLINE: tuple[Metric, ...] = (
    Metric("schools", "学校数", "count", unit="所"),
    Metric("students", "在校生数", "count", unit="人"),
    Metric("coverage_ratio", "多媒体教室覆盖率（班班通）", "pct", TARGET_MULTIMEDIA_COVERAGE),
    Metric("connected_share", "互联网接入率（校校通）", "pct", TARGET_CONNECTED_SHARE),
    Metric("share_100mbps_plus", "出口带宽≥100Mbps学校占比", "pct", TARGET_SHARE_100MBPS),
    Metric("primary:student_teacher_ratio", "小学生师比", "ratio"),
    Metric("junior:student_teacher_ratio", "初中生师比", "ratio"),
    Metric("counties_ready", "具备优质均衡条件的县", "count", unit="个"),
)

# Coverage and broadband figures shown on a scorecard next to the province's.
ACCESS: tuple[Metric, ...] = (
    Metric("coverage_ratio", "多媒体教室覆盖率（班班通）", "pct", TARGET_MULTIMEDIA_COVERAGE),
    Metric("fully_covered_share", "多媒体教室全覆盖学校占比", "pct", TARGET_MULTIMEDIA_COVERAGE),
    Metric("connected_share", "互联网接入率（校校通）", "pct", TARGET_CONNECTED_SHARE),
    Metric("share_100mbps_plus", "出口带宽≥100Mbps学校占比", "pct", TARGET_SHARE_100MBPS),
    Metric("share_10mbps_plus", "出口带宽≥10Mbps学校占比", "pct", TARGET_SHARE_10MBPS),
    Metric("median_bandwidth_mbps", "出口带宽中位数", "num", unit="Mbps"),
    Metric("kbps_per_student", "生均带宽", "num", unit="kbps"),
)

TEACHER: tuple[Metric, ...] = (
    Metric("student_teacher_ratio", "生师比（学生数/专任教师数）", "ratio"),
    Metric("qualified_teachers_per_100", "每百名学生拥有高于规定学历教师数", "num"),
    Metric("backbone_teachers_per_100", "每百名学生拥有县级以上骨干教师数", "num"),
    Metric("pe_arts_teachers_per_100", "每百名学生拥有体育、艺术专任教师数", "num"),
    Metric("senior_title_share", "中级及以上职称教师占比", "pct"),
)
_PER_STUDENT_TEACHER = ("qualified_teachers_per_100", "backbone_teachers_per_100",
                        "pe_arts_teachers_per_100")

# (numerator count, denominator count) of the access shares in the county marts.
_SHARES: dict[str, tuple[str, str, str]] = {
    "coverage_ratio": ("county_multimedia_coverage", "multimedia_classrooms", "classrooms"),
    "fully_covered_share": ("county_multimedia_coverage", "schools_fully_covered", "schools"),
    "connected_share": ("county_broadband", "schools_connected", "schools"),
    "share_100mbps_plus": ("county_broadband", "schools_100mbps_plus", "schools"),
    "share_10mbps_plus": ("county_broadband", "schools_10mbps_plus", "schools"),
}


def ratio(num: Value, den: Value) -> Decimal | None:
    if num is None or den is None or Decimal(den) == 0:
        return None
    return Decimal(num) / Decimal(den)


def _sum(values: Iterable[Any]) -> Decimal | None:
    present = [Decimal(v) for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def province_codes(snap: Snapshot, year: int) -> list[str]:
    codes: set[str] = set()
    for table in ("county_multimedia_coverage", "county_broadband", "county_teacher_ratios",
                  "county_balance_readiness", "submission_status"):
        codes.update(str(r["province_code"]) for r in snap.rows(table, year)
                     if r.get("province_code"))
    return sorted(codes)


def area_name(snap: Snapshot, year: int, province: str | None) -> str:
    if province is None:
        return "全部地区"
    row = snap.region(year, "province", province)
    for key in ("region_name", "province_name", "name"):
        if row and row.get(key):
            return str(row[key])
    return f"省级单位 {province}"


def _region_value(region: dict[str, Any] | None, *keys: str) -> tuple[bool, Value]:
    if region is None:
        return False, None
    for key in keys:
        if key in region:
            return True, region[key]
    return False, None


def area_figures(snap: Snapshot, year: int, province: str | None) -> dict[str, Value]:
    """Figures of one province (`province` = its 6-digit code) or of all counties (None)."""
    key = ("area_figures", year, province)
    if key not in snap.memo:
        snap.memo[key] = _area_figures(snap, year, province)
    return snap.memo[key]


def _area_figures(snap: Snapshot, year: int, province: str | None) -> dict[str, Value]:

    def rows(table: str) -> list[dict[str, Any]]:
        return [r for r in snap.rows(table, year)
                if province is None or str(r.get("province_code")) == province]

    region = snap.region(year, "province", province) if province else None
    out: dict[str, Value] = {}

    def put(key: str, computed: Value, *region_keys: str) -> None:
        found, value = _region_value(region, *(region_keys or (key,)))
        out[key] = value if found else computed

    coverage, broadband = rows("county_multimedia_coverage"), rows("county_broadband")
    teachers = rows("county_teacher_ratios")
    put("schools", _sum(r.get("schools") for r in coverage or broadband))
    put("students", _sum(r.get("students") for r in teachers))
    for key in ("classrooms", "multimedia_classrooms", "schools_fully_covered"):
        put(key, _sum(r.get(key) for r in coverage))
    for key in ("schools_connected", "schools_100mbps_plus", "schools_10mbps_plus"):
        put(key, _sum(r.get(key) for r in broadband))
    for key, (table, num_key, den_key) in _SHARES.items():
        source = coverage if table == "county_multimedia_coverage" else broadband
        put(key, ratio(_sum(r.get(num_key) for r in source),
                       _sum(r.get(den_key) for r in source)))
    # Medians and per-student bandwidth cannot be rebuilt from county figures: region only.
    put("median_bandwidth_mbps", None)
    put("kbps_per_student", None)

    for section in SECTIONS:
        sec = [r for r in teachers if r.get("section") == section]
        students = _sum(r.get("students") for r in sec)
        n_teachers = _sum(r.get("teachers") for r in sec)
        alt = (f"{section}_{{}}", f"{{}}_{section}")
        put(f"{section}:students", students, *(a.format("students") for a in alt))
        put(f"{section}:teachers", n_teachers, *(a.format("teachers") for a in alt))
        put(f"{section}:student_teacher_ratio", ratio(students, n_teachers),
            *(a.format("student_teacher_ratio") for a in alt))
        for key in _PER_STUDENT_TEACHER:
            weighted = _sum(Decimal(r[key]) * Decimal(r["students"]) for r in sec
                            if r.get(key) is not None and r.get("students") is not None)
            den = _sum(r.get("students") for r in sec if r.get(key) is not None)
            put(f"{section}:{key}", ratio(weighted, den), *(a.format(key) for a in alt))
        weighted = _sum(Decimal(r["senior_title_share"]) * Decimal(r["teachers"]) for r in sec
                        if r.get("senior_title_share") is not None and r.get("teachers"))
        den = _sum(r.get("teachers") for r in sec if r.get("senior_title_share") is not None)
        put(f"{section}:senior_title_share", ratio(weighted, den),
            *(a.format("senior_title_share") for a in alt))

    # The county mean X̄ of each indicator is Σx/ΣP over its schools, so the province X̄ is
    # Σ(X̄·P)/ΣP over counties: the same student-weighted mean, recomputed from totals.
    cv_rows = [r for r in rows("county_indicator_cv") if str(r.get("method")) == "2017"]
    for section in SECTIONS:
        for indicator in INDICATORS_2017:
            sel = [r for r in cv_rows if r.get("section") == section
                   and r.get("indicator") == indicator and r.get("county_value") is not None
                   and r.get("students")]
            weighted = _sum(Decimal(r["county_value"]) * Decimal(r["students"]) for r in sel)
            out[f"{section}:x:{indicator}"] = ratio(weighted,
                                                    _sum(r["students"] for r in sel))

    readiness = rows("county_balance_readiness")
    put("counties", len(readiness))
    put("counties_ready", sum(1 for r in readiness if r.get("ready") is True))
    return out


def report_scope(snap: Snapshot, year: int) -> str | None:
    """The province a year's report is about, or None when the marts hold several."""
    codes = province_codes(snap, year)
    return codes[0] if len(codes) == 1 else None


def change(current: Value, previous: Value) -> Decimal | None:
    if current is None or previous is None:
        return None
    return Decimal(current) - Decimal(previous)
