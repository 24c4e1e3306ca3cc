-- The school rows of each county-year's current submission, typed, with the county's codes.
-- County and year come from the submission (landing folder, accepted file), which validation
-- has checked against every row.
{{ config(indexes=[{'columns': ['county_code', 'school_year']}]) }}
with counties as {{ scoped_ref('int_submissions_current') }},

school_rows as (
    select * from {{ ref('stg_raw__school_rows') }}
),

school_types as (
    select * from {{ ref('school_types') }}
)

select
    {{ county_identity_columns() }},
    counties.submission_id,
    school_rows.row_number,
    -- One-column keys: Postgres misestimates joins on several correlated columns (year,
    -- county, school, section) as 1 row and falls back to nested loops on large provinces.
    concat_ws('/', counties.school_year, counties.county_code,
              school_rows.school_code) as school_id,
    school_rows.school_code,
    school_rows.school_name,
    school_rows.school_type,
    school_rows.urban_rural,
    school_rows.primary_students,
    school_rows.junior_students,
    school_rows.senior_students,
    -- bigint: each count fits int4 (staging takes at most 9 digits), their sum need not.
    school_rows.primary_students::bigint + school_rows.junior_students
        + school_rows.senior_students as school_students,
    school_rows.primary_students::bigint + school_rows.junior_students as compulsory_students,
    school_rows.primary_classes,
    school_rows.junior_classes,
    school_rows.primary_teachers,
    school_rows.junior_teachers,
    school_rows.primary_qualified_teachers,
    school_rows.junior_qualified_teachers,
    school_rows.primary_senior_title_teachers,
    school_rows.junior_senior_title_teachers,
    school_rows.primary_backbone_teachers,
    school_rows.junior_backbone_teachers,
    school_rows.primary_pe_arts_teachers,
    school_rows.junior_pe_arts_teachers,
    school_rows.teaching_area_m2,
    school_rows.sports_area_m2,
    school_rows.equipment_value_10k_yuan,
    school_rows.books,
    school_rows.computers,
    school_rows.classrooms,
    school_rows.multimedia_classrooms,
    school_rows.music_rooms,
    school_rows.art_rooms,
    school_rows.internet_access,
    school_rows.has_internet,
    school_rows.bandwidth_mbps,
    school_rows.primary_max_class_size,
    school_rows.junior_max_class_size,
    school_rows.large_classes,
    school_rows.junior_intake,
    school_rows.junior_graduates,
    school_rows.primary_intake,
    -- 小学教学点 are out of the 优质均衡 assessment unless the policy seed says otherwise.
    (not school_types.is_teaching_point
        or {{ policy_flag('teaching_points_in_balance_scope') }}) as in_balance_scope
from counties
inner join school_rows
    on school_rows.submission_id = counties.submission_id
left join school_types
    on school_types.school_type = school_rows.school_type
