"""Hand-made marts for the report tests, on the marts' declared interface.

The mart tables are created from the dbt contracts (edustat.reports.interface: names, types,
order), never restated here, and the reference schema is loaded by the real `dbt seed`; both
once per session in a template database that every test clones (CREATE DATABASE … TEMPLATE).
The rows: 3 Qinghai counties × 2 school years × both sections, plus two counties that only
appear in submission_status (one rejected, one missing). The school rows are written by hand
below; the section split and indicator values follow docs/methodology.md and are computed here in
Python, and the county/region aggregates are derived from them in SQL, so the marts agree with
each other the way the real ones do. Cases the reports must handle:

- counties missing for a year: 大通县's 2023 file was rejected (it reports in 2024 only), so
  2024's year-over-year change is over 城东区 and 城中区 alone (like-for-like);
- a NULL CV: every junior section of 大通县 has 0 backbone teachers, so X̄ = 0 and CV is NULL;
- a county that is not ready, with gaps (城中区: under-resourced schools, a CV over its limit,
  retention unknown); 城东区 is ready in 2024 only;
- a school whose name starts with `=` (a formula-injection attempt) in school_indicators;
- a 小学教学点 (218) out of balance scope, with resource gaps of its own;
- 城乡: 城中区's primary sections are urban (the `=` school) and rural (第一小学), so its
  rural/urban gap is defined; 大通县 has no urban school (gap NULL); the province has all three.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from edustat.reports.interface import load_interface
from edustat.transform import dbt_build
from edustat.warehouse.bootstrap import bootstrap
from edustat.warehouse.connection import with_database
from support import oracle

YEARS = (2023, 2024)
PROVINCE = "630000"
PREFECTURE = "630100"
COUNTIES = {"630102": "城东区", "630103": "城中区", "630121": "大通回族土族自治县"}
REJECTED_COUNTY = ("630105", "城北区")  # rejected in 2024, accepted nothing
# 大通县's 2023 file was rejected: it has data in 2024 only.
LATE_COUNTY = "630121"
MISSING_COUNTY = ("630123", "湟源县")  # never submitted
INJECTION_NAME = '=HYPERLINK("http://attacker.invalid/","城中区第二小学")'
INJECTION_SCHOOL = "6301030001"
NOT_READY_COUNTY = "630103"
NULL_CV = ("630121", "junior", "backbone_teachers_per_100")  # 2024 only



INDICATORS = oracle.INDICATORS_2017


@dataclass(frozen=True)
class School:
    """One row of a county file, reduced to what the marts need (2023 values)."""

    code: str
    name: str
    type: str
    urban_rural: str
    students: tuple[int, int, int]  # primary, junior, senior
    classes: tuple[int, int]
    teachers: tuple[int, int]
    qualified: tuple[int, int]
    backbone: tuple[int, int]
    pe_arts: tuple[int, int]
    senior_title: tuple[int, int]
    teaching_area: Decimal
    sports_area: Decimal
    equipment_10k: Decimal
    classrooms: int
    multimedia: int
    internet: bool
    bandwidth: Decimal
    max_class: tuple[int, int]
    large_classes: int = 0
    music_art: tuple[int, int] = (2, 2)
    intake_graduates: tuple[int, int] = (0, 0)


D = Decimal
SCHOOLS: dict[str, list[School]] = {
    # Well-resourced urban district: every section compliant, CVs small -> ready in 2024.
    "630102": [
        School("6301020001", "城东区第一小学", "211", "111", (900, 0, 0), (20, 0), (52, 0),
               (50, 0), (12, 0), (10, 0), (30, 0), D("5200"), D("8100"), D("230"), 20, 22,
               True, D("1000"), (45, 0), 0, (2, 2)),
        School("6301020002", "城东区实验中学", "311", "111", (0, 700, 0), (0, 16), (0, 62),
               (0, 60), (0, 9), (0, 8), (0, 40), D("4500"), D("7800"), D("200"), 16, 18,
               True, D("1000"), (0, 48), 0, (2, 2), (240, 228)),
        School("6301020003", "城东区九年一贯制学校", "312", "112", (400, 300, 0), (10, 8),
               (24, 27), (23, 26), (5, 4), (5, 4), (14, 16), D("4500"), D("7500"), D("190"),
               18, 18, True, D("500"), (44, 49), 0, (2, 2), (100, 97)),
    ],
    # Mixed district: the `=` school is short of teachers and space; a 教学点 out of scope.
    "630103": [
        School(INJECTION_SCHOOL, INJECTION_NAME, "211", "112", (1200, 0, 0), (26, 0), (44, 0),
               (40, 0), (2, 0), (7, 0), (20, 0), D("4300"), D("6000"), D("180"), 26, 20, True,
               D("100"), (52, 0), 3, (1, 2)),
        School("6301030002", "城中区第一小学", "211", "210", (800, 0, 0), (18, 0), (42, 0),
               (40, 0), (9, 0), (8, 0), (25, 0), D("4200"), D("6400"), D("190"), 18, 18, True,
               D("200"), (45, 0), 0, (2, 2)),
        School("6301030003", "城中区第一中学", "341", "111", (0, 800, 600), (0, 18),
               (0, 50), (0, 45), (0, 8), (0, 6), (0, 35), D("9000"), D("12000"), D("420"), 30,
               26, True, D("50"), (0, 55), 2, (2, 1), (270, 0)),
        School("6301030004", "城中区南山教学点", "218", "220", (40, 0, 0), (3, 0), (4, 0),
               (3, 0), (0, 0), (1, 0), (1, 0), D("150"), D("200"), D("6"), 3, 1, False,
               D("0"), (18, 0), 0, (0, 0)),
    ],
    # Rural county: no junior backbone teachers at all (NULL CV), thin bandwidth.
    "630121": [
        School("6301210001", "大通县城关小学", "211", "121", (600, 0, 0), (14, 0), (33, 0),
               (30, 0), (7, 0), (6, 0), (18, 0), D("3000"), D("5000"), D("130"), 14, 12, True,
               D("100"), (44, 0), 0, (2, 2)),
        School("6301210002", "大通县第一中学", "311", "121", (0, 500, 0), (0, 11), (0, 40),
               (0, 34), (0, 0), (0, 5), (0, 22), D("3100"), D("5400"), D("140"), 11, 11, True,
               D("20"), (0, 50), 0, (1, 1), (180, 171)),
        School("6301210003", "大通县朔北九年一贯制学校", "312", "210", (300, 200, 0), (8, 5),
               (18, 16), (14, 12), (2, 0), (3, 2), (9, 8), D("2600"), D("4200"), D("90"), 13,
               9, False, D("0"), (40, 46), 0, (1, 1), (70, 60)),
    ],
}


ACCEPTED = {(c, y) for c in COUNTIES for y in YEARS} - {(LATE_COUNTY, 2023)}


# 2023 differences: 城东区's first primary school still had a 47-pupil class, so the county
# becomes ready only in 2024 (a year-over-year change in "counties ready").
OVERRIDES_2023: dict[str, dict[str, object]] = {"6301020001": {"max_class": (47, 0)}}


def school_for_year(s: School, year: int) -> School:
    """2024 rows: a little growth in students and multimedia rooms, so year-over-year moves."""
    if year == 2023:
        return School(**{**s.__dict__, **OVERRIDES_2023.get(s.code, {})})
    grow = [round(n * 1.03) for n in s.students]
    multimedia = min(s.multimedia + 2, s.classrooms) if s.multimedia else 0
    return School(**{**s.__dict__, "students": tuple(grow), "multimedia": multimedia,
                     "bandwidth": s.bandwidth * 2 if s.bandwidth < 100 else s.bandwidth})


def file_row(s: School) -> dict[str, object]:
    """The school as a row of its county file (the columns the test oracle reads)."""
    row: dict[str, object] = {
        "school_code": s.code, "school_name": s.name, "school_type": s.type,
        "urban_rural": s.urban_rural, "teaching_area_m2": s.teaching_area,
        "sports_area_m2": s.sports_area, "equipment_value_10k_yuan": s.equipment_10k,
        "multimedia_classrooms": s.multimedia, "computers": 0, "books": 0}
    for key, value in zip(("primary_students", "junior_students", "senior_students"),
                          s.students, strict=True):
        row[key] = value
    for i, section in enumerate(("primary", "junior")):
        for key, values in (("classes", s.classes), ("teachers", s.teachers),
                            ("qualified_teachers", s.qualified),
                            ("backbone_teachers", s.backbone), ("pe_arts_teachers", s.pe_arts),
                            ("senior_title_teachers", s.senior_title)):
            row[f"{section}_{key}"] = values[i]
    return row


def _decimal(value: Fraction) -> Decimal:
    return D(value.numerator) / D(value.denominator)


def section_rows(s: School, county: str, year: int) -> list[dict[str, object]]:
    """school_indicators rows of one school: sections, shares, values and compliance as the
    test oracle computes them (support/oracle.py, from docs/methodology.md)."""
    rows = []
    for section in oracle.split(year, county, file_row(s)):
        met, compliant = oracle.compliance(section)
        rows.append({
            "school_year": year, "school_code": s.code, "section": section.section,
            "county_code": county, "county_name": COUNTIES[county],
            "prefecture_code": PREFECTURE, "province_code": PROVINCE,
            "school_name": s.name, "school_type": s.type, "urban_rural": s.urban_rural,
            "students": section.students, "classes": section.get("classes"),
            "teachers": section.get("teachers"),
            **{k: _decimal(section.values[k]) for k in INDICATORS},
            "indicators_met": met, "compliant": compliant,
            "in_balance_scope": section.in_scope,
        })
    return rows


FIXTURE_DDL = """
CREATE TABLE public.fixture_schools (
    school_year int, county_code text, school_code text, school_type text,
    primary_students int, junior_students int, senior_students int,
    primary_teachers int, junior_teachers int, primary_senior_title int, junior_senior_title int,
    classrooms int, multimedia int, internet boolean, bandwidth numeric,
    primary_max_class int, junior_max_class int, large_classes int,
    primary_classes int, junior_classes int, music_rooms int, art_rooms int,
    junior_intake int, junior_graduates int
);
CREATE TABLE public.fixture_intake (school_year int, school_code text, junior_intake int);
"""

# The seven 2017 indicators of a school_indicators row, one row each (indicator, x).
_INDICATOR_ROWS = """    CROSS JOIN LATERAL (VALUES
        ('qualified_teachers_per_100', si.qualified_teachers_per_100),
        ('backbone_teachers_per_100', si.backbone_teachers_per_100),
        ('pe_arts_teachers_per_100', si.pe_arts_teachers_per_100),
        ('teaching_area_per_student', si.teaching_area_per_student),
        ('sports_area_per_student', si.sports_area_per_student),
        ('equipment_value_per_student', si.equipment_value_per_student),
        ('multimedia_rooms_per_100', si.multimedia_rooms_per_100)) AS v(indicator, x)
"""

# The county marts, derived from the school rows the way docs/methodology.md defines them.
DERIVE = """
WITH vals AS (
    SELECT si.school_year, si.county_code, si.section, si.students, v.indicator, v.x
    FROM marts.school_indicators si
""" + _INDICATOR_ROWS + """    WHERE si.in_balance_scope AND si.students > 0
), mean AS (
    SELECT school_year, county_code, section, indicator, count(*) AS schools,
           sum(students) AS students, sum(x * students) / sum(students) AS xbar
    FROM vals GROUP BY 1, 2, 3, 4
), sd AS (
    SELECT m.*, sqrt(sum(v.students * (v.x - m.xbar) ^ 2) / m.students) AS s
    FROM mean m JOIN vals v USING (school_year, county_code, section, indicator)
    GROUP BY m.school_year, m.county_code, m.section, m.indicator, m.schools, m.students, m.xbar
)
INSERT INTO marts.county_indicator_cv (school_year, county_code, prefecture_code,
    province_code, section, method, indicator, schools, students, county_value, std_dev, cv,
    cv_limit)
SELECT sd.school_year, sd.county_code, '630100', '630000', sd.section, '2017', sd.indicator,
       sd.schools, sd.students, sd.xbar, sd.s, CASE WHEN sd.xbar <> 0 THEN sd.s / sd.xbar END,
       t.cv_limit
FROM sd JOIN reference.indicator_thresholds t
  ON t.method::text = '2017' AND t.section = sd.section AND t.indicator = sd.indicator;
UPDATE marts.county_indicator_cv SET cv_ok = cv <= cv_limit;

-- method 2012 composite, only for 2024: informative mean of the 2017 CVs (hand-made stand-in).
INSERT INTO marts.county_indicator_cv (school_year, county_code, prefecture_code,
    province_code, section, method, indicator, schools, students, cv, cv_limit)
SELECT c.school_year, c.county_code, '630100', '630000', c.section, '2012', 'composite',
       max(c.schools), max(c.students), avg(c.cv), min(t.cv_limit)
FROM marts.county_indicator_cv c
JOIN reference.indicator_thresholds t
  ON t.method::text = '2012' AND t.section = c.section AND t.indicator = 'composite'
WHERE c.school_year = 2024 AND c.method = '2017'
GROUP BY c.school_year, c.county_code, c.section;
UPDATE marts.county_indicator_cv SET cv_ok = cv <= cv_limit WHERE method = '2012';
UPDATE marts.county_indicator_cv c SET indicator_name_zh = i.name_zh,
    indicator_name_en = i.name_en FROM reference.indicators i WHERE i.indicator = c.indicator;

INSERT INTO marts.county_multimedia_coverage (school_year, county_code, prefecture_code,
    province_code, schools, classrooms, multimedia_classrooms, coverage_ratio,
    schools_fully_covered, fully_covered_share, multimedia_rooms_per_100)
SELECT school_year, county_code, '630100', '630000', count(*), sum(classrooms),
       sum(multimedia), sum(multimedia)::numeric / nullif(sum(classrooms), 0),
       count(*) FILTER (WHERE multimedia >= classrooms),
       (count(*) FILTER (WHERE multimedia >= classrooms))::numeric / count(*),
       sum(multimedia)::numeric * 100
           / nullif(sum(primary_students + junior_students + senior_students), 0)
FROM public.fixture_schools GROUP BY 1, 2;

INSERT INTO marts.county_broadband (school_year, county_code, prefecture_code, province_code,
    schools, schools_connected, connected_share, schools_100mbps_plus, share_100mbps_plus,
    schools_10mbps_plus, share_10mbps_plus, median_bandwidth_mbps, students, kbps_per_student)
SELECT school_year, county_code, '630100', '630000', count(*),
       count(*) FILTER (WHERE internet), (count(*) FILTER (WHERE internet))::numeric / count(*),
       count(*) FILTER (WHERE bandwidth >= 100),
       (count(*) FILTER (WHERE bandwidth >= 100))::numeric / count(*),
       count(*) FILTER (WHERE bandwidth >= 10),
       (count(*) FILTER (WHERE bandwidth >= 10))::numeric / count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY bandwidth),
       sum(primary_students + junior_students + senior_students),
       sum(bandwidth) * 1000 / sum(primary_students + junior_students + senior_students)
FROM public.fixture_schools GROUP BY 1, 2;

INSERT INTO marts.county_teacher_ratios (school_year, county_code, prefecture_code,
    province_code, section, school_sections, students, teachers, student_teacher_ratio,
    classes, teachers_per_class,
    qualified_teachers_per_100, backbone_teachers_per_100, pe_arts_teachers_per_100,
    senior_title_teachers, senior_title_share)
SELECT f.school_year, f.county_code, '630100', '630000', s.section, count(*), sum(s.p),
       sum(s.t), sum(s.p)::numeric / nullif(sum(s.t), 0),
       sum(s.c), sum(s.t)::numeric / nullif(sum(s.c), 0),
       sum(si.qualified_teachers_per_100 * s.p) / sum(s.p),
       sum(si.backbone_teachers_per_100 * s.p) / sum(s.p),
       sum(si.pe_arts_teachers_per_100 * s.p) / sum(s.p),
       sum(s.senior), sum(s.senior)::numeric / nullif(sum(s.t), 0)
FROM public.fixture_schools f
CROSS JOIN LATERAL (VALUES
    ('primary', f.primary_students, f.primary_teachers, f.primary_senior_title,
     f.primary_classes),
    ('junior', f.junior_students, f.junior_teachers, f.junior_senior_title, f.junior_classes))
    AS s(section, p, t, senior, c)
JOIN marts.school_indicators si
  ON si.school_year = f.school_year AND si.school_code = f.school_code AND si.section = s.section
WHERE s.p > 0
GROUP BY f.school_year, f.county_code, s.section;

-- Every section below a threshold, teaching points included (out of scope, as in the mart).
INSERT INTO marts.school_resource_gaps (school_year, school_code, section, indicator,
    county_code, prefecture_code, province_code, school_name, school_type, in_balance_scope,
    indicator_name_zh, indicator_name_en, students, value, threshold, shortfall,
    shortfall_unit_zh, shortfall_unit_en)
SELECT si.school_year, si.school_code, si.section, v.indicator, si.county_code, '630100',
       '630000', si.school_name, si.school_type, si.in_balance_scope, i.name_zh, i.name_en,
       si.students, v.x, t.school_min_value,
       (t.school_min_value - v.x) * si.students / i.per_students::numeric,
       i.resource_unit_zh, i.resource_unit_en
FROM marts.school_indicators si
""" + _INDICATOR_ROWS + """JOIN reference.indicator_thresholds t
  ON t.method::text = '2017' AND t.section = si.section AND t.indicator = v.indicator
JOIN reference.indicators i ON i.indicator = v.indicator
WHERE v.x < t.school_min_value;

-- Every school to the standard: the in-scope rows of the gaps above, per indicator.
UPDATE marts.county_indicator_cv c SET schools_below_threshold = (
    SELECT count(*) FROM marts.school_resource_gaps g
    WHERE g.school_year = c.school_year AND g.county_code = c.county_code
      AND g.section = c.section AND g.indicator = c.indicator AND g.in_balance_scope)
WHERE c.method = '2017';

WITH f AS (
    SELECT school_year, county_code,
           count(*) FILTER (WHERE primary_max_class > 45 OR junior_max_class > 50) AS oversize,
           sum(large_classes) AS large, sum(primary_classes + junior_classes) AS classes,
           count(*) FILTER (WHERE primary_students + junior_students
                            > CASE WHEN school_type IN ('312', '345') THEN 2500 ELSE 2000 END)
               AS oversize_schools,
           count(*) FILTER (WHERE school_type <> '218' AND (
               music_rooms < ceil((primary_classes + junior_classes) / 12.0)
               OR art_rooms < ceil((primary_classes + junior_classes) / 12.0))) AS music_art
    FROM public.fixture_schools GROUP BY 1, 2
), ret AS (
    SELECT y.school_year, y.county_code,
           sum(y.junior_graduates)::numeric / nullif(sum(p.junior_intake), 0) AS rate
    FROM public.fixture_schools y
    JOIN public.fixture_intake p
      ON p.school_code = y.school_code AND p.school_year = y.school_year - 3
    GROUP BY 1, 2
), comp AS (
    SELECT school_year, county_code, count(*) AS sections,
           count(*) FILTER (WHERE compliant) AS compliant
    FROM marts.school_indicators WHERE in_balance_scope GROUP BY 1, 2
), cvok AS (
    SELECT school_year, county_code,
           bool_and(cv_ok) FILTER (WHERE section = 'primary' AND method = '2017') AS p_ok,
           bool_and(cv_ok) FILTER (WHERE section = 'junior' AND method = '2017') AS j_ok
    FROM marts.county_indicator_cv GROUP BY 1, 2
)
INSERT INTO marts.county_balance_readiness (school_year, county_code, prefecture_code,
    province_code, school_sections, compliant_sections, compliant_share, cv_ok_primary,
    cv_ok_junior, oversize_class_schools, large_classes, large_class_share, oversize_schools,
    music_art_room_shortfall_schools, junior_retention_rate, retention_ok, ready)
SELECT f.school_year, f.county_code, '630100', '630000', c.sections, c.compliant,
       c.compliant::numeric / c.sections, v.p_ok, v.j_ok, f.oversize, f.large,
       f.large::numeric / f.classes, f.oversize_schools, f.music_art, r.rate, r.rate >= 0.95,
       false
FROM f JOIN comp c USING (school_year, county_code) JOIN cvok v USING (school_year, county_code)
LEFT JOIN ret r USING (school_year, county_code);
"""

# The 2017 indicators by 城乡 area: county rows, then prefecture and province rows, each from
# the in-scope sections of school_indicators (Σ value·P / Σ P), all three areas per section.
URBAN_RURAL = """
CREATE TEMP TABLE area_values AS
WITH vals AS (
    SELECT si.school_year, si.county_code, si.section, a.area, si.students, v.indicator, v.x
    FROM marts.school_indicators si
    JOIN reference.urban_rural_areas a ON a.urban_rural = si.urban_rural
""" + _INDICATOR_ROWS + """    WHERE si.in_balance_scope
), present AS (
    SELECT DISTINCT si.school_year, si.county_code, si.section, a.area, v.indicator
    FROM marts.school_indicators si
    CROSS JOIN (SELECT DISTINCT area FROM reference.urban_rural_areas) a
    CROSS JOIN (SELECT DISTINCT indicator FROM vals) v
), levels AS (
    SELECT p.school_year, l.level, l.code, p.section, p.area, p.indicator,
           count(v.x) AS schools, coalesce(sum(v.students), 0) AS students,
           sum(v.x * v.students) / nullif(sum(v.students), 0) AS value
    FROM present p
    CROSS JOIN LATERAL (VALUES ('county', p.county_code), ('prefecture', '630100'),
                               ('province', '630000')) AS l(level, code)
    LEFT JOIN vals v USING (school_year, county_code, section, area, indicator)
    GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT l.*, l.value / nullif(u.value, 0) AS ratio_to_urban
FROM levels l
JOIN levels u ON u.school_year = l.school_year AND u.level = l.level AND u.code = l.code
 AND u.section = l.section AND u.indicator = l.indicator AND u.area = 'urban';

INSERT INTO marts.county_urban_rural (school_year, county_code, prefecture_code,
    prefecture_name, province_code, province_name, section, area, indicator, indicator_name_zh,
    schools, students, value, ratio_to_urban)
SELECT a.school_year, a.code, '630100', '西宁市', '630000', '青海省', a.section, a.area,
       a.indicator, i.name_zh, a.schools, a.students, a.value, a.ratio_to_urban
FROM area_values a JOIN reference.indicators i USING (indicator) WHERE a.level = 'county';

INSERT INTO marts.region_urban_rural (school_year, region_level, region_code, region_name,
    province_code, section, area, indicator, indicator_name_zh, schools, students, value,
    ratio_to_urban)
SELECT a.school_year, a.level, a.code, CASE a.code WHEN '630000' THEN '青海省' ELSE '西宁市' END,
       '630000', a.section, a.area, a.indicator, i.name_zh, a.schools, a.students, a.value,
       a.ratio_to_urban
FROM area_values a JOIN reference.indicators i USING (indicator) WHERE a.level <> 'county';
DROP TABLE area_values;

INSERT INTO marts.county_school_changes (school_year, county_code, county_name,
    prefecture_code, province_code, schools, small_schools, rural_schools,
    previous_year_available, schools_opened, schools_closed, opened_school_codes,
    closed_school_codes)
SELECT y.school_year, y.county_code, NULL, '630100', '630000', count(*),
       count(*) FILTER (WHERE y.primary_students + y.junior_students + y.senior_students
                        < (SELECT value::numeric FROM reference.policy_parameters
                           WHERE parameter = 'small_school_students')),
       count(*) FILTER (WHERE a.area = 'rural'),
       bool_or(p.county_code IS NOT NULL),
       CASE WHEN bool_or(p.county_code IS NOT NULL) THEN 0 END,
       CASE WHEN bool_or(p.county_code IS NOT NULL) THEN 0 END,
       CASE WHEN bool_or(p.county_code IS NOT NULL) THEN '{}'::text[] END,
       CASE WHEN bool_or(p.county_code IS NOT NULL) THEN '{}'::text[] END
FROM public.fixture_schools y
JOIN reference.urban_rural_areas a ON a.urban_rural = (
    SELECT si.urban_rural FROM marts.school_indicators si
    WHERE si.school_year = y.school_year AND si.school_code = y.school_code LIMIT 1)
LEFT JOIN (SELECT DISTINCT school_year, county_code FROM public.fixture_schools) p
  ON p.county_code = y.county_code AND p.school_year = y.school_year - 1
GROUP BY y.school_year, y.county_code;
"""

# region_summary at county, prefecture and province level, every figure from school totals;
# counties_expected: the five counties of the fixture's jurisdiction (西宁市 630100).
REGIONS = """
WITH base AS (
    SELECT f.school_year, f.county_code, f.school_code,
           f.primary_students + f.junior_students + f.senior_students AS students,
           f.classrooms, f.multimedia, f.multimedia >= f.classrooms AS is_full, f.internet,
           f.bandwidth, f.primary_students AS ps, f.primary_teachers AS pt,
           f.junior_students AS js, f.junior_teachers AS jt,
           f.primary_senior_title AS psen, f.junior_senior_title AS jsen,
           coalesce(p.qualified_teachers_per_100 * p.students / 100, 0) AS pq,
           coalesce(j.qualified_teachers_per_100 * j.students / 100, 0) AS jq,
           coalesce(p.multimedia_rooms_per_100 * p.students / 100, 0)
               + coalesce(j.multimedia_rooms_per_100 * j.students / 100, 0) AS section_mm,
           coalesce(p.students, 0) + coalesce(j.students, 0) AS section_students
    FROM public.fixture_schools f
    LEFT JOIN marts.school_indicators p ON p.school_year = f.school_year
         AND p.school_code = f.school_code AND p.section = 'primary'
    LEFT JOIN marts.school_indicators j ON j.school_year = f.school_year
         AND j.school_code = f.school_code AND j.section = 'junior'
), grouped AS (
    SELECT school_year,
           CASE WHEN grouping(county_code) = 0 THEN 'county' ELSE 'province' END AS level,
           coalesce(county_code, '630000') AS code,
           count(DISTINCT county_code) AS counties, count(*) AS schools, sum(students) AS students,
           sum(classrooms) AS classrooms, sum(multimedia) AS multimedia,
           count(*) FILTER (WHERE is_full) AS full_schools, sum(section_mm) AS section_mm,
           sum(section_students) AS section_students,
           count(*) FILTER (WHERE internet) AS connected,
           count(*) FILTER (WHERE bandwidth >= 100) AS mbps100,
           count(*) FILTER (WHERE bandwidth >= 10) AS mbps10,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY bandwidth)::numeric AS median_bw,
           sum(bandwidth) AS bw, sum(ps) AS ps, sum(pt) AS pt, sum(js) AS js, sum(jt) AS jt,
           sum(pq) AS pq, sum(jq) AS jq, sum(psen) AS psen, sum(jsen) AS jsen
    FROM base GROUP BY GROUPING SETS ((school_year, county_code), (school_year))
), levels AS (
    SELECT * FROM grouped
    UNION ALL
    SELECT school_year, 'prefecture', '630100', counties, schools, students, classrooms,
           multimedia, full_schools, section_mm, section_students, connected, mbps100, mbps10,
           median_bw, bw, ps, pt, js, jt, pq, jq, psen, jsen
    FROM grouped WHERE level = 'province'
)
INSERT INTO marts.region_summary (school_year, region_level, region_code, region_name,
    province_code, prefecture_code, counties_expected, counties_reporting, schools, students,
    classrooms, multimedia_classrooms, coverage_ratio, schools_fully_covered,
    fully_covered_share, multimedia_rooms_per_100, schools_connected, connected_share,
    schools_100mbps_plus, share_100mbps_plus, schools_10mbps_plus, share_10mbps_plus,
    median_bandwidth_mbps, kbps_per_student, primary_students, primary_teachers,
    primary_student_teacher_ratio, primary_qualified_teachers_per_100,
    primary_senior_title_share, junior_students, junior_teachers, junior_student_teacher_ratio,
    junior_qualified_teachers_per_100, junior_senior_title_share)
SELECT school_year, level, code,
       CASE code WHEN '630000' THEN '青海省' WHEN '630100' THEN '西宁市' END,
       '630000', CASE WHEN level <> 'province' THEN '630100' END,
       CASE WHEN level = 'county' THEN 1 ELSE 5 END, counties, schools, students,
       classrooms, multimedia, multimedia::numeric / nullif(classrooms, 0), full_schools,
       full_schools::numeric / schools, 100 * section_mm / nullif(section_students, 0), connected,
       connected::numeric / schools, mbps100, mbps100::numeric / schools, mbps10,
       mbps10::numeric / schools, median_bw, 1000 * bw / nullif(students, 0),
       ps, pt, ps::numeric / nullif(pt, 0), 100 * pq / nullif(ps, 0), psen::numeric / nullif(pt, 0),
       js, jt, js::numeric / nullif(jt, 0), 100 * jq / nullif(js, 0), jsen::numeric / nullif(jt, 0)
FROM levels;
"""


def _gaps_text(row: dict[str, object]) -> str:
    """What stands between the county and `ready`, in Chinese (as the dbt model writes it)."""
    gaps = []
    if row["cv_ok_primary"] is False:
        gaps.append("小学有差异系数超过上限")
    if row["cv_ok_junior"] is False:
        gaps.append("初中有差异系数超过上限")
    if row["cv_ok_junior"] is None or row["cv_ok_primary"] is None:
        gaps.append("部分差异系数无法计算")
    if row["compliant_sections"] != row["school_sections"]:
        gaps.append(f"{row['school_sections'] - row['compliant_sections']} 个学校学段未达标")
    if row["oversize_class_schools"]:
        gaps.append(f"{row['oversize_class_schools']} 所学校存在超标准班额")
    if row["music_art_room_shortfall_schools"]:
        gaps.append(f"{row['music_art_room_shortfall_schools']} 所学校音乐美术专用教室不足")
    if row["junior_retention_rate"] is None:
        gaps.append("初中三年巩固率无法计算（缺少三年前招生数）")
    elif row["retention_ok"] is False:
        gaps.append("初中三年巩固率低于95%")
    return "；".join(gaps)


REJECTION_REASONS = {
    (LATE_COUNTY, 2023): "第5行「在校生数」：不是整数（填报值：约600）",
    (REJECTED_COUNTY[0], 2024): "缺少必填列：学校标识码 (school_code)",
}
REJECTED_SUBMISSION = {(LATE_COUNTY, 2023): 997, (REJECTED_COUNTY[0], 2024): 999}


def _submission_rows() -> list[dict[str, object]]:
    t0 = datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    rows: list[dict[str, object]] = []
    sid = 100
    names = {**COUNTIES, REJECTED_COUNTY[0]: REJECTED_COUNTY[1],
             MISSING_COUNTY[0]: MISSING_COUNTY[1]}
    for year in YEARS:
        for i, code in enumerate(sorted(names)):
            row: dict[str, object] = {
                "county_code": code, "school_year": year, "county_name": names[code],
                "prefecture_code": PREFECTURE, "province_code": PROVINCE, "status": "missing",
                "warnings": 0, "files_received": 0, "files_rejected": 0}
            if (code, year) in ACCEPTED:
                sid += 1
                row.update(status="accepted", accepted_submission_id=sid,
                           accepted_at=t0 + timedelta(days=365 * (year - 2023) + i),
                           accepted_file_name=f"{names[code]}{year}年报.xlsx",
                           warnings={"630103": 2, "630121": 1}.get(code, 0),
                           replaced_submission_id=sid - 3 if (year, code) == (2024, "630102")
                           else None, files_received=1)
            if (code, year) in REJECTION_REASONS:
                row.update(last_rejected_submission_id=REJECTED_SUBMISSION[(code, year)],
                           last_rejected_at=t0 + timedelta(days=365 * (year - 2023) + 5),
                           last_rejection_reason=REJECTION_REASONS[(code, year)],
                           files_received=1, files_rejected=1)
                if row["status"] == "missing":
                    row["status"] = "rejected"
            rows.append(row)
    return rows


def _insert(cur: psycopg.Cursor, table: str, row: dict[str, object]) -> None:
    cols = list(row)
    cur.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES"
                f" ({', '.join(['%s'] * len(cols))})", [row[c] for c in cols])


def create_tables(dsn: str) -> None:
    """The marts' tables exactly as their dbt contracts declare them."""
    with psycopg.connect(dsn) as conn:
        for mart in load_interface():
            columns = ", ".join(f'"{c.name}" {c.data_type}' for c in mart.columns)
            conn.execute(f"CREATE TABLE marts.{mart.name} ({columns})")


def fill_marts(dsn: str) -> None:
    """The fixture's rows, in tables created by create_tables and a seeded reference schema."""
    with psycopg.connect(dsn) as conn:
        conn.execute(FIXTURE_DDL)
        with conn.cursor() as cur:
            for year in YEARS:
                for county, schools in SCHOOLS.items():
                    if (county, year) not in ACCEPTED:
                        continue
                    for base in schools:
                        s = school_for_year(base, year)
                        cur.execute(
                            "INSERT INTO public.fixture_schools VALUES (%s, %s, %s, %s, %s, %s,"
                            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                            " %s, %s)",
                            (year, county, s.code, s.type, *s.students, *s.teachers,
                             *s.senior_title, s.classrooms, s.multimedia, s.internet,
                             s.bandwidth, *s.max_class, s.large_classes, *s.classes,
                             *s.music_art, *s.intake_graduates))
                        for row in section_rows(s, county, year):
                            _insert(cur, "marts.school_indicators", row)
            # 2020/2021 intake so that 2023 (城东区) and 2024 retention can be computed;
            # 城中区 has none -> retention unknown -> one of its gaps.
            for year in (2020, 2021):
                for code, intake in (("6301020002", 240), ("6301020003", 100),
                                    ("6301210002", 190), ("6301210003", 72)):
                    cur.execute("INSERT INTO public.fixture_intake VALUES (%s, %s, %s)",
                                (year, code, intake))
        conn.execute(DERIVE)
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT * FROM marts.county_balance_readiness")
            for row in cur.fetchall():
                gaps = _gaps_text(row)
                conn.execute(
                    "UPDATE marts.county_balance_readiness SET gaps = %s, ready = %s"
                    " WHERE school_year = %s AND county_code = %s",
                    (gaps or None, not gaps, row["school_year"], row["county_code"]))
        # 九年巩固率 of 城东区 2024, a stand-in (the fixture has no 2015 primary intake): 97 %
        # of the cohort, above its target; every other county-year's rate is unknown.
        conn.execute("UPDATE marts.county_balance_readiness SET compulsory_retention_rate ="
                     " 0.97, compulsory_retention_ok = true"
                     " WHERE county_code = '630102' AND school_year = 2024")
        conn.execute(REGIONS)
        conn.execute(URBAN_RURAL)
        for table in ("county_indicator_cv", "county_multimedia_coverage", "county_broadband",
                      "county_teacher_ratios", "county_balance_readiness",
                      "school_resource_gaps", "county_urban_rural", "county_school_changes"):
            conn.execute(f"UPDATE marts.{table} t SET county_name = c.name FROM (VALUES "
                         + ", ".join(f"('{k}', '{v}')" for k, v in COUNTIES.items())
                         + ") AS c(code, name) WHERE t.county_code = c.code")
        conn.execute("UPDATE marts.region_summary r SET region_name = c.name FROM (VALUES "
                     + ", ".join(f"('{k}', '{v}')" for k, v in COUNTIES.items())
                     + ") AS c(code, name) WHERE r.region_code = c.code")
        with conn.cursor() as cur:
            for row in _submission_rows():
                _insert(cur, "marts.submission_status", row)
        conn.execute("DROP TABLE public.fixture_schools, public.fixture_intake")
        conn.commit()


def _create_db(server: str, template: str | None = None) -> str:
    name = f"edustat_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'
                     + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_db(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_reference(dsn: str, target: Path) -> None:
    """The reference schema as the real `dbt seed` loads it (seeds and their tests)."""
    result = dbt_build(dsn, target, select="resource_type:seed", exclude="resource_type:test")
    assert result.ok, result.summary() + "\n" + result.output


@pytest.fixture(scope="session")
def marts_template(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database with the platform's schemas, the seeds and the fixture marts, to clone."""
    name = _create_db(pg_server)
    try:
        dsn = with_database(pg_server, name)
        bootstrap(dsn)
        seed_reference(dsn, tmp_path_factory.mktemp("dbt_seed"))
        create_tables(dsn)
        fill_marts(dsn)
        yield name
    finally:
        _drop_db(pg_server, name)


@pytest.fixture
def marts(pg_server: str, marts_template: str) -> Iterator[str]:
    """A fresh copy of the fixture marts (DSN); dropped after the test."""
    name = _create_db(pg_server, marts_template)
    try:
        yield with_database(pg_server, name)
    finally:
        _drop_db(pg_server, name)


@pytest.fixture
def seeded(pg_server: str, marts_template: str) -> Iterator[str]:
    """A fresh database with the reference schema but no marts (a platform before its first
    build); DSN."""
    name = _create_db(pg_server, marts_template)
    dsn = with_database(pg_server, name)
    try:
        with psycopg.connect(dsn) as conn:
            for mart in load_interface():
                conn.execute(f"DROP TABLE marts.{mart.name}")
        yield dsn
    finally:
        _drop_db(pg_server, name)
