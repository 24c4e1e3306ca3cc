"""The figures the pages show, as the marts hold them, and the year-over-year change.

Every figure of a province is its `region_summary` row (the marts recompute each level from
school totals); nothing is recomputed here when a column is missing: a figure names its mart
column, and a column the interface does not declare raises InterfaceError.

The one derived figure is the like-for-like change: a province's figure this year and last year
over the counties that report in BOTH years, so a county whose file was rejected does not show as
a fall in schools or students. Counts are summed over those counties' region_summary rows; a
ratio is the sum of its numerator over the sum of its denominator, the columns its `ratio_of`
test declares (the same test checks that the mart's own ratio is exactly that); a figure that is
neither (a median, a per-student mean) has no like-for-like change and shows none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from edustat.reports.marts import Row, Snapshot

Value = Decimal | int | None


@dataclass(frozen=True)
class Metric:
    """A figure of a page: a mart column with its declared label, format, unit and target."""

    key: str  # the column (region_summary's name for the province figure)
    label: str
    format: str
    unit: str | None = None
    target: Decimal | None = None


def metric(snap: Snapshot, mart: str, column: str, label: str | None = None) -> Metric:
    c = snap.interface.column(mart, column)
    target = snap.policy_number(c.target) if c.target else None
    return Metric(column, label or c.label, c.format, c.unit, target)


# Province headline figures: region_summary columns, in the order of the cards.
HEADLINE = ("schools", "students", "coverage_ratio", "connected_share", "share_100mbps_plus",
            "primary_student_teacher_ratio", "junior_student_teacher_ratio")
# Coverage and broadband on a scorecard: the county marts' column and region_summary's, same name.
ACCESS = (("county_multimedia_coverage", "coverage_ratio"),
          ("county_multimedia_coverage", "fully_covered_share"),
          ("county_broadband", "connected_share"),
          ("county_broadband", "share_100mbps_plus"),
          ("county_broadband", "share_10mbps_plus"),
          ("county_broadband", "median_bandwidth_mbps"),
          ("county_broadband", "kbps_per_student"))
# Teacher figures of a scorecard section (county_teacher_ratios) and the region_summary column
# holding the province's figure, `{section}_` + name (None: region_summary has no such figure).
TEACHER = (("student_teacher_ratio", "student_teacher_ratio"),
           ("teachers_per_class", None),
           ("qualified_teachers_per_100", "qualified_teachers_per_100"),
           ("backbone_teachers_per_100", None),
           ("pe_arts_teachers_per_100", None),
           ("senior_title_share", "senior_title_share"))
READY = "counties_ready"


def province_codes(snap: Snapshot, year: int) -> list[str]:
    """Provinces with data in the year (a region_summary province row)."""
    return sorted(r["region_code"] for r in snap.rows("region_summary", year)
                  if r["region_level"] == "province")


def county_rows(snap: Snapshot, year: int, province: str) -> dict[str, Row]:
    """region_summary rows of the province's counties with data in the year."""
    return {r["region_code"]: r for r in snap.rows("region_summary", year)
            if r["region_level"] == "county" and r["province_code"] == province}


def ready_counties(snap: Snapshot, year: int, province: str) -> set[str]:
    return {r["county_code"] for r in snap.rows("county_balance_readiness", year)
            if r["province_code"] == province and r["ready"] is True}


def readiness_counties(snap: Snapshot, year: int, province: str) -> set[str]:
    return {r["county_code"] for r in snap.rows("county_balance_readiness", year)
            if r["province_code"] == province}


@dataclass(frozen=True)
class Change:
    """A province's figures this year and the previous one over the same counties."""

    year: int
    prev_year: int
    counties: int  # counties reporting in both years
    values: dict[str, tuple[Value, Value]]  # key -> (this year, previous year), same counties

    def delta(self, key: str) -> Decimal | None:
        current, previous = self.values.get(key, (None, None))
        if current is None or previous is None:
            return None
        return Decimal(current) - Decimal(previous)


def _sum(values: Iterable[Any]) -> Decimal | None:
    present = [Decimal(v) for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _over(snap: Snapshot, rows: list[Row], key: str) -> Value:
    """A region_summary figure over a set of its county rows (module docstring)."""
    mart = snap.mart("region_summary")
    if key in mart.ratios:
        numerator, denominator = mart.ratios[key]
        num, den = _sum(r[numerator] for r in rows), _sum(r[denominator] for r in rows)
        return None if num is None or not den else num / den
    if mart.column(key).format == "count":
        return _sum(r[key] for r in rows)
    return None


def like_for_like(snap: Snapshot, year: int, province: str) -> Change | None:
    """The headline figures of `year` and `year - 1` over the counties reporting in both; None
    when the province has no data in the previous year."""
    key = ("like_for_like", year, province)
    if key in snap.memo:
        return snap.memo[key]
    prev = year - 1
    change = None
    if prev in snap.years:
        now, before = county_rows(snap, year, province), _previous(snap, prev, province)
        common = sorted(set(now) & set(before))
        if before:
            values = {k: (_over(snap, [now[c] for c in common], k),
                          _over(snap, [before[c] for c in common], k)) for k in HEADLINE}
            both = set(common)
            values[READY] = (len(ready_counties(snap, year, province) & both),
                             len(_previous_ready(snap, prev, province) & both))
            change = Change(year, prev, len(common), values)
    snap.memo[key] = change
    return change


def _previous(snap: Snapshot, year: int, province: str) -> dict[str, Row]:
    """The previous year's county rows, kept across the release of that year's page rows."""
    key = ("county_rows", year, province)
    if key not in snap.memo:
        snap.memo[key] = county_rows(snap, year, province)
    return snap.memo[key]


def _previous_ready(snap: Snapshot, year: int, province: str) -> set[str]:
    key = ("ready", year, province)
    if key not in snap.memo:
        snap.memo[key] = ready_counties(snap, year, province)
    return snap.memo[key]


def remember(snap: Snapshot, year: int, provinces: Iterable[str]) -> None:
    """Keep what next year's like-for-like change needs from this year's rows."""
    for province in provinces:
        _previous(snap, year, province)
        _previous_ready(snap, year, province)


def change(current: Value, previous: Value) -> Decimal | None:
    if current is None or previous is None:
        return None
    return Decimal(current) - Decimal(previous)
