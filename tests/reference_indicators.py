"""An independent, plain-Python reading of docs/methodology.md (2017 method), for the e2e tests.

Written from the spec, not from the dbt models: section split, asset shares, the
student-weighted population CV. Tests compare the marts with it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

SECTIONS = {"211": ("primary",), "218": ("primary",), "311": ("junior",),
            "312": ("primary", "junior"), "341": ("junior",), "345": ("primary", "junior")}

# indicator -> (how to get the section's resource total x_i, multiplier for the unit)
PER_100 = 100.0


def _num(row: Mapping[str, str | None], key: str) -> float:
    value = row.get(key)
    return float(value) if value not in (None, "") else 0.0


def section_values(row: Mapping[str, str | None]) -> list[dict]:
    """One dict per existing section: students P and resource totals x for the 7 indicators."""
    total = sum(_num(row, k) for k in ("primary_students", "junior_students", "senior_students"))
    out = []
    for section in SECTIONS[row["school_type"]]:
        students = _num(row, f"{section}_students")
        if students <= 0:
            continue
        share = students / total
        out.append({
            "section": section,
            "students": students,
            "in_scope": row["school_type"] != "218",
            "x": {
                "qualified_teachers_per_100": _num(row, f"{section}_qualified_teachers"),
                "backbone_teachers_per_100": _num(row, f"{section}_backbone_teachers"),
                "pe_arts_teachers_per_100": _num(row, f"{section}_pe_arts_teachers"),
                "teaching_area_per_student": _num(row, "teaching_area_m2") * share,
                "sports_area_per_student": _num(row, "sports_area_m2") * share,
                "equipment_value_per_student":
                    _num(row, "equipment_value_10k_yuan") * 10000 * share,
                "multimedia_rooms_per_100": _num(row, "multimedia_classrooms") * share,
            },
        })
    return out


def unit_factor(indicator: str) -> float:
    return PER_100 if indicator.endswith("_per_100") else 1.0


def county_cvs(rows: Iterable[Mapping[str, str | None]]) -> dict[tuple, dict]:
    """(school_year, county_code, section, indicator) -> schools, students, mean, std, cv."""
    groups: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        for sec in section_values(row):
            if not sec["in_scope"]:
                continue
            for indicator, x in sec["x"].items():
                key = (int(row["school_year"]), row["county_code"], sec["section"], indicator)
                groups[key].append((sec["students"], x))
    result = {}
    for key, pairs in groups.items():
        students = sum(p for p, _ in pairs)
        mean = sum(x for _, x in pairs) / students
        std = math.sqrt(sum(p / students * (x / p - mean) ** 2 for p, x in pairs))
        factor = unit_factor(key[3])
        result[key] = {
            "schools": len(pairs), "students": students, "county_value": mean * factor,
            "std_dev": std * factor, "cv": None if mean == 0 else std / mean,
        }
    return result


def weighted_cv(pairs: list[tuple[float, float]]) -> float | None:
    """CV of (P_i, x_i) pairs: the published 5-school example gives 0.5153."""
    students = sum(p for p, _ in pairs)
    mean = sum(x for _, x in pairs) / students
    if mean == 0:
        return None
    return math.sqrt(sum(p / students * (x / p - mean) ** 2 for p, x in pairs)) / mean
