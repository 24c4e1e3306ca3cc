"""Hand-made marts for the report tests, independent of dbt.

Creates the tables of interface.md in schema `marts` of a fresh `warehouse` database and fills
them for 3 Qinghai counties × 2 school years × both sections, plus two counties that only appear
in submission_status (one rejected, one missing). The school rows are written by hand below; the
section split and indicator values follow indicators.md and are computed here in Python, and the
county/region aggregates are derived from them in SQL, so the marts agree with each other the way
the real ones do. Cases the reports must handle:

- a NULL CV: every junior section of 大通县 has 0 backbone teachers, so X̄ = 0 and CV is NULL;
- a county that is not ready, with gaps (城中区: under-resourced schools, a CV over its limit,
  retention unknown); 城东区 is ready in 2024 only;
- a school whose name starts with `=` (a formula-injection attempt) in school_indicators;
- a 小学教学点 (218) out of balance scope;
- region_summary without some columns (fully_covered_share, share_10mbps_plus, ...), which the
  reports must then recompute from county totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

YEARS = (2023, 2024)
PROVINCE = "630000"
PREFECTURE = "630100"
COUNTIES = {"630102": "城东区", "630103": "城中区", "630121": "大通回族土族自治县"}
REJECTED_COUNTY = ("630105", "城北区")  # rejected in 2024, accepted nothing
MISSING_COUNTY = ("630123", "湟源县")  # never submitted
INJECTION_NAME = '=HYPERLINK("http://attacker.invalid/","城中区第二小学")'
INJECTION_SCHOOL = "6301030001"
NOT_READY_COUNTY = "630103"
NULL_CV = ("630121", "junior", "backbone_teachers_per_100")

# indicators.md, method 2017 thresholds and CV limits (what the dbt seed will hold).
THRESHOLDS: dict[str, dict[str, Decimal]] = {
    "primary": {
        "qualified_teachers_per_100": Decimal("4.2"), "backbone_teachers_per_100": Decimal("1.0"),
        "pe_arts_teachers_per_100": Decimal("0.9"), "teaching_area_per_student": Decimal("4.5"),
        "sports_area_per_student": Decimal("7.5"), "equipment_value_per_student": Decimal("2000"),
        "multimedia_rooms_per_100": Decimal("2.3"),
    },
    "junior": {
        "qualified_teachers_per_100": Decimal("5.3"), "backbone_teachers_per_100": Decimal("1.0"),
        "pe_arts_teachers_per_100": Decimal("0.9"), "teaching_area_per_student": Decimal("5.8"),
        "sports_area_per_student": Decimal("10.2"), "equipment_value_per_student": Decimal("2500"),
        "multimedia_rooms_per_100": Decimal("2.4"),
    },
}
CV_LIMITS = {"primary": Decimal("0.50"), "junior": Decimal("0.45")}
COMPOSITE_LIMITS = {"primary": Decimal("0.65"), "junior": Decimal("0.55")}
INDICATORS = tuple(THRESHOLDS["primary"])


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
        School("6301030002", "城中区第一小学", "211", "111", (800, 0, 0), (18, 0), (42, 0),
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


def section_rows(s: School, county: str, year: int) -> list[dict[str, object]]:
    """school_indicators rows of one school (indicators.md: sections, shares, values)."""
    total = sum(s.students)
    rows = []
    for i, section in enumerate(("primary", "junior")):
        p = s.students[i]
        if p <= 0:
            continue
        share = D(p) / D(total)
        values = {
            "qualified_teachers_per_100": D(s.qualified[i]) / p * 100,
            "backbone_teachers_per_100": D(s.backbone[i]) / p * 100,
            "pe_arts_teachers_per_100": D(s.pe_arts[i]) / p * 100,
            "teaching_area_per_student": s.teaching_area * share / p,
            "sports_area_per_student": s.sports_area * share / p,
            "equipment_value_per_student": s.equipment_10k * 10000 * share / p,
            "multimedia_rooms_per_100": D(s.multimedia) * share / p * 100,
        }
        limits = THRESHOLDS[section]
        met = sum(1 for k, v in values.items() if v >= limits[k])
        near = all(v >= limits[k] * D("0.85") for k, v in values.items())
        rows.append({
            "school_year": year, "school_code": s.code, "section": section,
            "county_code": county, "county_name": COUNTIES[county],
            "prefecture_code": PREFECTURE, "province_code": PROVINCE,
            "school_name": s.name, "school_type": s.type, "urban_rural": s.urban_rural,
            "students": p, "classes": s.classes[i], "teachers": s.teachers[i], **values,
            "indicators_met": met, "compliant": met == 7 or (met == 6 and near),
            "in_balance_scope": s.type != "218",
        })
    return rows


DDL = """
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
CREATE TABLE marts.school_indicators (
    school_year int, school_code text, section text, county_code text, county_name text,
    prefecture_code text, province_code text, school_name text, school_type text,
    urban_rural text, students int, classes int, teachers int,
    qualified_teachers_per_100 numeric, backbone_teachers_per_100 numeric,
    pe_arts_teachers_per_100 numeric, teaching_area_per_student numeric,
    sports_area_per_student numeric, equipment_value_per_student numeric,
    multimedia_rooms_per_100 numeric, indicators_met int, compliant boolean,
    in_balance_scope boolean, PRIMARY KEY (school_year, school_code, section)
);
CREATE TABLE marts.county_indicator_cv (
    school_year int, county_code text, county_name text, prefecture_code text,
    province_code text, section text, method text, indicator text, schools int, students int,
    county_value numeric, std_dev numeric, cv numeric, cv_limit numeric, cv_ok boolean,
    PRIMARY KEY (school_year, county_code, section, method, indicator)
);
CREATE TABLE marts.county_multimedia_coverage (
    school_year int, county_code text, county_name text, prefecture_code text,
    province_code text, schools int, classrooms int, multimedia_classrooms int,
    coverage_ratio numeric, schools_fully_covered int, fully_covered_share numeric,
    multimedia_rooms_per_100 numeric, PRIMARY KEY (school_year, county_code)
);
CREATE TABLE marts.county_broadband (
    school_year int, county_code text, county_name text, prefecture_code text,
    province_code text, schools int, schools_connected int, connected_share numeric,
    schools_100mbps_plus int, share_100mbps_plus numeric, schools_10mbps_plus int,
    share_10mbps_plus numeric, median_bandwidth_mbps numeric, kbps_per_student numeric,
    PRIMARY KEY (school_year, county_code)
);
CREATE TABLE marts.county_teacher_ratios (
    school_year int, county_code text, county_name text, prefecture_code text,
    province_code text, section text, students int, teachers int,
    student_teacher_ratio numeric, qualified_teachers_per_100 numeric,
    backbone_teachers_per_100 numeric, pe_arts_teachers_per_100 numeric,
    senior_title_share numeric, PRIMARY KEY (school_year, county_code, section)
);
CREATE TABLE marts.county_balance_readiness (
    school_year int, county_code text, county_name text, prefecture_code text,
    province_code text, school_sections int, compliant_sections int, compliant_share numeric,
    cv_ok_primary boolean, cv_ok_junior boolean, oversize_class_schools int, large_classes int,
    oversize_schools int, music_art_room_shortfall_schools int, junior_retention_rate numeric,
    retention_ok boolean, ready boolean, gaps text, PRIMARY KEY (school_year, county_code)
);
CREATE TABLE marts.school_resource_gaps (
    school_year int, school_code text, section text, indicator text, county_code text,
    county_name text, prefecture_code text, province_code text, value numeric,
    threshold numeric, shortfall numeric,
    PRIMARY KEY (school_year, school_code, section, indicator)
);
CREATE TABLE marts.region_summary (
    school_year int, region_level text, region_code text, region_name text, schools bigint,
    students bigint, classrooms bigint, multimedia_classrooms bigint, coverage_ratio numeric,
    schools_connected bigint, connected_share numeric, schools_100mbps_plus bigint,
    share_100mbps_plus numeric, primary_student_teacher_ratio numeric,
    junior_student_teacher_ratio numeric,
    PRIMARY KEY (school_year, region_level, region_code)
);
CREATE TABLE marts.submission_status (
    county_code text, county_name text, prefecture_code text, province_code text,
    school_year int, status text, accepted_submission_id bigint, accepted_at timestamptz,
    warnings int, replaced_submission_id bigint, last_rejected_submission_id bigint,
    last_rejected_at timestamptz, last_rejection_reason text,
    PRIMARY KEY (county_code, school_year)
);
"""

# The county and region marts, derived from the school rows the way indicators.md defines them.
DERIVE = """
WITH vals AS (
    SELECT si.school_year, si.county_code, si.section, si.students, v.indicator, v.x
    FROM marts.school_indicators si
    CROSS JOIN LATERAL (VALUES
        ('qualified_teachers_per_100', si.qualified_teachers_per_100),
        ('backbone_teachers_per_100', si.backbone_teachers_per_100),
        ('pe_arts_teachers_per_100', si.pe_arts_teachers_per_100),
        ('teaching_area_per_student', si.teaching_area_per_student),
        ('sports_area_per_student', si.sports_area_per_student),
        ('equipment_value_per_student', si.equipment_value_per_student),
        ('multimedia_rooms_per_100', si.multimedia_rooms_per_100)) AS v(indicator, x)
    WHERE si.in_balance_scope AND si.students > 0
), mean AS (
    SELECT school_year, county_code, section, indicator, count(*) AS schools,
           sum(students) AS students, sum(x * students) / sum(students) AS xbar
    FROM vals GROUP BY 1, 2, 3, 4
), sd AS (
    SELECT m.*, sqrt(sum(v.students * (v.x - m.xbar) ^ 2) / m.students) AS s
    FROM mean m JOIN vals v USING (school_year, county_code, section, indicator)
    GROUP BY m.school_year, m.county_code, m.section, m.indicator, m.schools, m.students, m.xbar
)
INSERT INTO marts.county_indicator_cv
SELECT school_year, county_code, NULL, '630100', '630000', section, '2017', indicator, schools,
       students, xbar, s, CASE WHEN xbar <> 0 THEN s / xbar END,
       CASE section WHEN 'primary' THEN 0.50 ELSE 0.45 END, NULL
FROM sd;
UPDATE marts.county_indicator_cv SET cv_ok = cv <= cv_limit;

-- method 2012 composite, only for 2024: informative mean of the 2017 CVs (hand-made stand-in).
INSERT INTO marts.county_indicator_cv
SELECT school_year, county_code, NULL, '630100', '630000', section, '2012', 'composite',
       max(schools), max(students), NULL, NULL, avg(cv),
       CASE section WHEN 'primary' THEN 0.65 ELSE 0.55 END, NULL
FROM marts.county_indicator_cv WHERE school_year = 2024 AND method = '2017'
GROUP BY school_year, county_code, section;
UPDATE marts.county_indicator_cv SET cv_ok = cv <= cv_limit WHERE method = '2012';

INSERT INTO marts.county_multimedia_coverage
SELECT school_year, county_code, NULL, '630100', '630000', count(*), sum(classrooms),
       sum(multimedia), sum(multimedia)::numeric / nullif(sum(classrooms), 0),
       count(*) FILTER (WHERE multimedia >= classrooms),
       (count(*) FILTER (WHERE multimedia >= classrooms))::numeric / count(*),
       sum(multimedia)::numeric * 100
           / nullif(sum(primary_students + junior_students + senior_students), 0)
FROM public.fixture_schools GROUP BY 1, 2;

INSERT INTO marts.county_broadband
SELECT school_year, county_code, NULL, '630100', '630000', count(*),
       count(*) FILTER (WHERE internet), (count(*) FILTER (WHERE internet))::numeric / count(*),
       count(*) FILTER (WHERE bandwidth >= 100),
       (count(*) FILTER (WHERE bandwidth >= 100))::numeric / count(*),
       count(*) FILTER (WHERE bandwidth >= 10),
       (count(*) FILTER (WHERE bandwidth >= 10))::numeric / count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY bandwidth),
       sum(bandwidth) * 1000 / sum(primary_students + junior_students + senior_students)
FROM public.fixture_schools GROUP BY 1, 2;

INSERT INTO marts.county_teacher_ratios
SELECT f.school_year, f.county_code, NULL, '630100', '630000', s.section, sum(s.p), sum(s.t),
       sum(s.p)::numeric / nullif(sum(s.t), 0),
       sum(si.qualified_teachers_per_100 * s.p) / sum(s.p),
       sum(si.backbone_teachers_per_100 * s.p) / sum(s.p),
       sum(si.pe_arts_teachers_per_100 * s.p) / sum(s.p),
       sum(s.senior)::numeric / nullif(sum(s.t), 0)
FROM public.fixture_schools f
CROSS JOIN LATERAL (VALUES
    ('primary', f.primary_students, f.primary_teachers, f.primary_senior_title),
    ('junior', f.junior_students, f.junior_teachers, f.junior_senior_title))
    AS s(section, p, t, senior)
JOIN marts.school_indicators si
  ON si.school_year = f.school_year AND si.school_code = f.school_code AND si.section = s.section
WHERE s.p > 0
GROUP BY f.school_year, f.county_code, s.section;

INSERT INTO marts.school_resource_gaps
SELECT si.school_year, si.school_code, si.section, v.indicator, si.county_code, NULL,
       '630100', '630000', v.x, t.threshold,
       (t.threshold - v.x) * si.students / CASE WHEN v.indicator LIKE '%per_100' THEN 100 ELSE 1 END
FROM marts.school_indicators si
CROSS JOIN LATERAL (VALUES
    ('qualified_teachers_per_100', si.qualified_teachers_per_100),
    ('backbone_teachers_per_100', si.backbone_teachers_per_100),
    ('pe_arts_teachers_per_100', si.pe_arts_teachers_per_100),
    ('teaching_area_per_student', si.teaching_area_per_student),
    ('sports_area_per_student', si.sports_area_per_student),
    ('equipment_value_per_student', si.equipment_value_per_student),
    ('multimedia_rooms_per_100', si.multimedia_rooms_per_100)) AS v(indicator, x)
JOIN fixture_thresholds t ON t.section = si.section AND t.indicator = v.indicator
WHERE si.in_balance_scope AND v.x < t.threshold;

WITH f AS (
    SELECT school_year, county_code,
           count(*) FILTER (WHERE primary_max_class > 45 OR junior_max_class > 50) AS oversize,
           sum(large_classes) AS large,
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
           bool_and(cv_ok) FILTER (WHERE section = 'junior' AND method = '2017') AS j_ok,
           bool_or(cv IS NULL) FILTER (WHERE section = 'junior' AND method = '2017') AS j_null
    FROM marts.county_indicator_cv GROUP BY 1, 2
)
INSERT INTO marts.county_balance_readiness
SELECT f.school_year, f.county_code, NULL, '630100', '630000', c.sections, c.compliant,
       c.compliant::numeric / c.sections, v.p_ok, v.j_ok, f.oversize, f.large,
       f.oversize_schools, f.music_art, r.rate, r.rate >= 0.95,
       NULL, NULL
FROM f JOIN comp c USING (school_year, county_code) JOIN cvok v USING (school_year, county_code)
LEFT JOIN ret r USING (school_year, county_code);
"""

REGIONS = """
WITH base AS (
    SELECT school_year, county_code, count(*) AS schools,
           sum(primary_students + junior_students) AS students, sum(classrooms) AS classrooms,
           sum(multimedia) AS multimedia, count(*) FILTER (WHERE internet) AS connected,
           count(*) FILTER (WHERE bandwidth >= 100) AS mbps100,
           sum(primary_students) AS ps, sum(primary_teachers) AS pt,
           sum(junior_students) AS js, sum(junior_teachers) AS jt
    FROM public.fixture_schools GROUP BY 1, 2
), levels AS (
    SELECT 'county' AS region_level, county_code AS region_code, b.* FROM base b
    UNION ALL SELECT 'prefecture', '630100', b.* FROM base b
    UNION ALL SELECT 'province', '630000', b.* FROM base b
)
INSERT INTO marts.region_summary
SELECT school_year, region_level, region_code,
       CASE region_code WHEN '630000' THEN '青海省' WHEN '630100' THEN '西宁市' END,
       sum(schools), sum(students), sum(classrooms), sum(multimedia),
       sum(multimedia)::numeric / sum(classrooms), sum(connected),
       sum(connected)::numeric / sum(schools), sum(mbps100), sum(mbps100)::numeric / sum(schools),
       sum(ps)::numeric / sum(pt), sum(js)::numeric / sum(jt)
FROM levels GROUP BY school_year, region_level, region_code;
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


def _submission_rows() -> list[tuple[object, ...]]:
    t0 = datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    rows: list[tuple[object, ...]] = []
    sid = 100
    for year in YEARS:
        for i, (code, name) in enumerate(COUNTIES.items()):
            sid += 1
            at = t0 + timedelta(days=365 * (year - 2023) + i)
            warnings = {"630103": 2, "630121": 1}.get(code, 0)
            replaced = sid - 3 if (year == 2024 and code == "630102") else None
            rows.append((code, name, PREFECTURE, PROVINCE, year, "accepted", sid, at, warnings,
                         replaced, None, None, None))
        code, name = REJECTED_COUNTY
        if year == 2024:
            rows.append((code, name, PREFECTURE, PROVINCE, year, "rejected", None, None, 0,
                         None, 999, t0 + timedelta(days=370),
                         "缺少必填列：学校标识码 (school_code)"))
        else:
            rows.append((code, name, PREFECTURE, PROVINCE, year, "missing", None, None, 0,
                         None, None, None, None))
        code, name = MISSING_COUNTY
        rows.append((code, name, PREFECTURE, PROVINCE, year, "missing", None, None, 0, None,
                     None, None, None))
    return rows


def create_marts(dsn: str) -> None:
    """Create and fill the marts in the database at `dsn` (a fresh `warehouse` fixture)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        conn.execute("CREATE TEMP TABLE fixture_thresholds "
                     "(section text, indicator text, threshold numeric)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO fixture_thresholds VALUES (%s, %s, %s)",
                            [(s, k, v) for s, lim in THRESHOLDS.items() for k, v in lim.items()])
            for year in YEARS:
                for county, schools in SCHOOLS.items():
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
                            cols = list(row)
                            cur.execute(
                                f"INSERT INTO marts.school_indicators ({', '.join(cols)}) "
                                f"VALUES ({', '.join(['%s'] * len(cols))})",
                                [row[c] for c in cols])
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
        conn.execute(REGIONS)
        for table in ("county_indicator_cv", "county_multimedia_coverage", "county_broadband",
                      "county_teacher_ratios", "county_balance_readiness",
                      "school_resource_gaps"):
            conn.execute(f"UPDATE marts.{table} t SET county_name = c.name FROM (VALUES "
                         + ", ".join(f"('{k}', '{v}')" for k, v in COUNTIES.items())
                         + ") AS c(code, name) WHERE t.county_code = c.code")
        conn.execute("UPDATE marts.region_summary r SET region_name = c.name FROM (VALUES "
                     + ", ".join(f"('{k}', '{v}')" for k, v in COUNTIES.items())
                     + ") AS c(code, name) WHERE r.region_code = c.code")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO marts.submission_status VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s, %s, %s, %s)", _submission_rows())
        conn.commit()
