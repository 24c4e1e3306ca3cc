"""One school's submission values for one statistics year, derived from its simulated state.

Everything here is arithmetic on the school's state (no randomness), so a record obeys every
rule of docs/submission-format.md by construction: classes exist where pupils do, sub-counts of
teachers never exceed the teachers, bandwidth is 0 exactly when there is no internet, a max class
of 56+ comes with a count of large classes, junior graduates follow the intake of Y-3.
"""

from __future__ import annotations

import math

from edustat.columns import NO, YES
from edustat_synth.generation.schools import BANDWIDTH_LADDER, HAS_JUNIOR, HAS_PRIMARY, School

Record = dict[str, object]


def junior_students(s: School, year: int) -> int:
    """初一 + 初二 + 初三: this year's intake and the two before it, thinned by attrition."""
    step = s.retention ** (1 / 3)
    return (round(s.intakes.get(year, 0.0)) + round(s.intakes.get(year - 1, 0.0) * step)
            + round(s.intakes.get(year - 2, 0.0) * step * step))


def _max_class(students: int, classes: int, factor: float, crowded: bool) -> int:
    if not classes:
        return 0
    crowded = crowded and students >= 56
    mean = math.ceil(students / classes)
    largest = max(mean, min(students, math.ceil(students / classes * factor)))
    # Without a 56+ class the largest stays below 56, so large_classes = 0 is consistent.
    return min(75, max(56, largest)) if crowded else min(55, largest)


def _large_classes(students: int, classes: int, crowded: bool) -> int:
    if not crowded or not classes or students < 56:
        return 0
    share = min(0.9, max(0.05, (students / classes - 48) / 12))
    return max(1, round(classes * share))


def _part(teachers: int, share: float) -> int:
    return min(teachers, round(teachers * share))


def school_record(s: School, year: int, county_code: str) -> Record:
    primary = max(5 if s.type == "218" else 1, round(s.primary)) if s.type in HAS_PRIMARY else 0
    junior = max(1, junior_students(s, year)) if s.type in HAS_JUNIOR else 0
    senior = round(s.senior)

    if s.type == "218":  # multi-grade classes (复式班) with one or two teachers each
        p_classes = min(4, max(1, math.ceil(primary / 15)))
        p_teachers = max(1, min(p_classes + 1, round(primary / 12)))
    elif primary:
        p_classes = max(min(6, math.ceil(primary / 10)), math.ceil(primary / s.class_p))
        p_teachers = max(math.ceil(p_classes * 1.15), round(primary / s.ratio_p))
    else:
        p_classes = p_teachers = 0
    if junior:
        j_classes = max(min(3, math.ceil(junior / 12)), math.ceil(junior / s.class_j))
        j_teachers = max(math.ceil(j_classes * 2.3), round(junior / s.ratio_j))
    else:
        j_classes = j_teachers = 0
    s_classes = math.ceil(senior / 50)
    classrooms = p_classes + j_classes + s_classes + s.spare_rooms

    return {
        "school_year": year,
        "county_code": county_code,
        "school_code": s.code,
        "school_name": s.name,
        "school_type": s.type,
        "urban_rural": s.area,
        "primary_students": primary,
        "junior_students": junior,
        "senior_students": senior,
        "primary_classes": p_classes,
        "junior_classes": j_classes,
        "primary_teachers": p_teachers,
        "junior_teachers": j_teachers,
        "primary_qualified_teachers": _part(p_teachers, s.qual_p),
        "junior_qualified_teachers": _part(j_teachers, s.qual_j),
        "primary_senior_title_teachers": _part(p_teachers, s.title_p),
        "junior_senior_title_teachers": _part(j_teachers, s.title_j),
        "primary_backbone_teachers": _part(p_teachers, s.backbone_p),
        "junior_backbone_teachers": _part(j_teachers, s.backbone_j),
        "primary_pe_arts_teachers": _part(p_teachers, s.pe_p),
        "junior_pe_arts_teachers": _part(j_teachers, s.pe_j),
        "teaching_area_m2": round(s.teaching_area, 2),
        "sports_area_m2": round(s.sports_area, 2),
        "equipment_value_10k_yuan": round(s.equipment, 2),
        "books": round(s.books),
        "computers": round(s.computers),
        "classrooms": classrooms,
        "multimedia_classrooms": min(classrooms, round(classrooms * s.multimedia)),
        "music_rooms": s.music_rooms,
        "art_rooms": s.art_rooms,
        "internet_access": YES if s.internet else NO,
        "bandwidth_mbps": BANDWIDTH_LADDER[s.bw_index] if s.internet else 0,
        "primary_max_class_size": _max_class(primary, p_classes, s.max_factor,
                                             s.crowded and s.type != "218"),
        "junior_max_class_size": _max_class(junior, j_classes, s.max_factor, s.crowded),
        "large_classes": _large_classes(primary, p_classes, s.crowded and s.type != "218")
        + _large_classes(junior, j_classes, s.crowded),
        "junior_intake": round(s.intakes.get(year, 0.0)) if junior else 0,
        "junior_graduates": round(s.intakes.get(year - 3, 0.0) * s.retention) if junior else 0,
        # One grade of six, from the enrolment itself: no draw, so every other value of the
        # generated files stays as it was before the column existed.
        "primary_intake": round(primary / 6),
    }
