-- 初中三年巩固率 per county-year: junior graduates of year Y over junior grade-1 intake of
-- year Y−3, county totals of the current submissions. Never capped (in-migration can push it
-- past 100 %); NULL when year Y−3 has no accepted submission or its intake is 0.
{{ config(materialized='incremental', incremental_strategy='append',
          pre_hook="{{ delete_build_scope(level='retention') }}") }}
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
        coalesce(sum(schools.junior_graduates), 0) as junior_graduates
    from counties
    left join schools
        on schools.school_year = counties.school_year
       and schools.county_code = counties.county_code
    group by counties.school_year, counties.county_code
)

select
    this_year.school_year,
    this_year.county_code,
    this_year.junior_graduates,
    this_year.junior_intake,
    this_year.school_year - 3 as base_year,
    base_year.school_year is not null as base_year_available,
    base_year.junior_intake as base_year_junior_intake,
    {{ ratio('this_year.junior_graduates', 'base_year.junior_intake') }} as junior_retention_rate
from totals as this_year
left join totals as base_year
    on base_year.county_code = this_year.county_code
   and base_year.school_year = this_year.school_year - 3
where {{ in_build_scope('this_year.county_code', 'this_year.school_year', level='retention') }}
