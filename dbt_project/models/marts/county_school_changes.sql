-- Schools opened and closed per county and year: school codes accepted for Y and not for Y−1
-- (opened), for Y−1 and not for Y (closed); counts and code lists NULL when Y−1 has no
-- accepted submission. Also the year's small schools (fewer students than the policy seed's
-- small_school_students, 高中 included) and 乡村 schools (urban_rural_areas seed: rural).
-- Incremental with the follow-on county-years: Y+1 reads Y (macros/build_scope.sql).
{{ config(meta={'build_scope': {'level': 'retention'}}) }}
with counties as {{ scoped_ref('int_submissions_current', level='retention') }},

-- The school rows of the years in scope and of the year before each.
schools as {{ scope_materialized() }} (
    select
        schools.school_year,
        schools.county_code,
        schools.school_code,
        schools.school_students,
        urban_rural_areas.area
    from {{ ref('int_school_rows_current') }} as schools
    left join {{ ref('urban_rural_areas') }} as urban_rural_areas
        on urban_rural_areas.urban_rural = schools.urban_rural
    where {{ in_build_scope(level='retention') }}
       or {{ in_build_scope('county_code', '(school_year + 1)', level='retention') }}
),

this_year as (
    select
        counties.school_year,
        counties.county_code,
        count(schools.school_code) as schools,
        count(*) filter (
            where schools.school_students < {{ policy_number('small_school_students') }})
            as small_schools,
        count(*) filter (where schools.area = 'rural') as rural_schools
    from counties
    {{ county_year_join('schools') }}
    group by counties.school_year, counties.county_code
),

previous_years as (
    select distinct school_year, county_code
    from {{ ref('int_submissions_current') }}
),

-- Codes in exactly one of Y and Y−1 (both years accepted): opened in Y, or closed.
changes as (
    select
        coalesce(now_.school_year, before.school_year + 1) as school_year,
        coalesce(now_.county_code, before.county_code) as county_code,
        coalesce(now_.school_code, before.school_code) as school_code,
        before.school_code is null as opened
    from (select * from schools where school_year in (select school_year from counties)) as now_
    full outer join schools as before
        on before.county_code = now_.county_code
       and before.school_year = now_.school_year - 1
       and before.school_code = now_.school_code
    where now_.school_code is null or before.school_code is null
),

-- Per county-year: how many codes opened and closed, and which (in code order).
change_lists as (
    select
        school_year,
        county_code,
        {%- for change, condition in [('opened', 'opened'), ('closed', 'not opened')] %}
        count(school_code) filter (where {{ condition }}) as schools_{{ change }},
        array_agg(school_code order by school_code) filter (where {{ condition }})
            as {{ change }}_school_codes{% if not loop.last %},{% endif %}
        {%- endfor %}
    from changes
    group by school_year, county_code
)

select
    {{ county_identity_columns() }},
    this_year.schools,
    this_year.small_schools,
    this_year.rural_schools,
    previous_years.school_year is not null as previous_year_available,
    -- Without an accepted Y−1 nothing can be said to have opened or closed: NULL, not 0.
    {%- for change in ['opened', 'closed'] %}
    case when previous_years.school_year is not null
         then coalesce(change_lists.schools_{{ change }}, 0) end as schools_{{ change }},
    {%- endfor %}
    {%- for change in ['opened', 'closed'] %}
    case when previous_years.school_year is not null
         then coalesce(change_lists.{{ change }}_school_codes, '{}') end as {{ change }}_school_codes
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
from counties
{{ county_year_join('this_year', kind='inner') }}
left join previous_years
    on previous_years.county_code = counties.county_code
   and previous_years.school_year = counties.school_year - 1
{{ county_year_join('change_lists') }}
