-- 2017 school compliance per school section: a section is compliant when it meets at least
-- compliance_min_indicators_met (6) of the seven thresholds and every unmet one reaches
-- compliance_floor_ratio (85 %) of its threshold. Thresholds per section from the seed.
{{ config(indexes=[{'columns': ['county_code', 'school_year']}]) }}
with indicator_values as {{ scoped_ref('int_section_indicators_computed') }},

thresholds as (
    select * from {{ ref('indicator_thresholds') }}
    where method = '2017' and school_min_value is not null
),

checked as (
    select
        indicator_values.section_id,
        indicator_values.school_year,
        indicator_values.county_code,
        indicator_values.school_code,
        indicator_values.section,
        indicator_values.value >= thresholds.school_min_value as met,
        indicator_values.value
            >= {{ policy_number('compliance_floor_ratio') }} * thresholds.school_min_value
            as reaches_floor
    from indicator_values
    inner join thresholds
        on thresholds.section = indicator_values.section
       and thresholds.indicator = indicator_values.indicator
)

select
    section_id,
    school_year,
    county_code,
    school_code,
    section,
    count(*) as indicators_assessed,
    count(*) filter (where met) as indicators_met,
    (count(*) filter (where met) >= {{ policy_number('compliance_min_indicators_met') }}
        and bool_and(reaches_floor)) as compliant
from checked
group by section_id, school_year, county_code, school_code, section
