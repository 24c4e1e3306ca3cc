-- 巩固率 per county-year, county totals of the current submissions, never capped (in-migration
-- can push them past 100 %):
-- 初中三年巩固率 = junior graduates of Y / junior grade-1 intake of Y−3; NULL when Y−3 has no
-- accepted submission or its intake is 0.
-- 九年义务教育巩固率 = junior graduates of Y / primary grade-1 intake of Y−9; NULL when Y−9 has
-- no accepted submission, its intake is unknown (primary_intake is an optional column: a
-- school with primary students and no value makes the county's intake unknown) or 0.
{{ config(meta={'build_scope': {'level': 'retention'}}) }}
with counties as (
    select * from {{ ref('int_submissions_current') }}
),

schools as (
    select * from {{ ref('int_school_rows_current') }}
),

totals as (
    select
        counties.school_year,
        counties.county_code,
        coalesce(sum(schools.junior_intake), 0) as junior_intake,
        coalesce(sum(schools.junior_graduates), 0) as junior_graduates,
        -- Known only when every school with primary students gave it; other schools have none.
        case when bool_and(schools.primary_intake is not null or schools.primary_students = 0)
                 is not false
             then coalesce(sum(schools.primary_intake), 0) end as primary_intake
    from counties
    {{ county_year_join('schools') }}
    group by counties.school_year, counties.county_code
)

select
    this_year.school_year,
    this_year.county_code,
    this_year.junior_graduates,
    this_year.junior_intake,
    this_year.primary_intake,
    this_year.school_year - 3 as base_year,
    base_year.school_year is not null as base_year_available,
    base_year.junior_intake as base_year_junior_intake,
    {{ ratio('this_year.junior_graduates', 'base_year.junior_intake') }} as junior_retention_rate,
    this_year.school_year - 9 as compulsory_base_year,
    compulsory_base.school_year is not null as compulsory_base_year_available,
    compulsory_base.primary_intake as base_year_primary_intake,
    {{ ratio('this_year.junior_graduates', 'compulsory_base.primary_intake') }}
        as compulsory_retention_rate
from totals as this_year
left join totals as base_year
    on base_year.county_code = this_year.county_code
   and base_year.school_year = this_year.school_year - 3
left join totals as compulsory_base
    on compulsory_base.county_code = this_year.county_code
   and compulsory_base.school_year = this_year.school_year - 9
where {{ in_build_scope('this_year.county_code', 'this_year.school_year', level='retention') }}
