-- Every CV a county-year must report: for each section the county has (in or out of balance
-- scope) × every indicator of every method in the thresholds seed. Adds the limits, the
-- composite CV (arithmetic mean of the method's indicator CVs, NULL unless all are defined)
-- and cv_ok (NULL when the CV or the limit is NULL). A section with no school in scope gets
-- schools = 0 and NULL values (n = 0: undefined, not 0). schools_below_threshold (method
-- 2017 only): the in-scope sections strictly below the indicator's school threshold, with no
-- 85 % allowance (every school to the standard); 0 when none, NULL for the 2012 rows.
with sections as {{ scoped_ref('int_school_sections_split') }},

thresholds as (
    select * from {{ ref('indicator_thresholds') }}
),

computed as {{ scoped_ref('int_county_indicator_cv_computed') }},

indicator_values as {{ scoped_ref('int_section_indicators_computed', where='in_balance_scope') }},

below_threshold as (
    select
        indicator_values.school_year,
        indicator_values.county_code,
        indicator_values.section,
        indicator_values.indicator,
        count(*) as schools_below_threshold
    from indicator_values
    inner join thresholds
        on thresholds.method = '2017'
       and thresholds.section = indicator_values.section
       and thresholds.indicator = indicator_values.indicator
    where indicator_values.value < thresholds.school_min_value
    group by
        indicator_values.school_year,
        indicator_values.county_code,
        indicator_values.section,
        indicator_values.indicator
),

sections_present as (
    select
        school_year,
        county_code,
        section,
        count(*) filter (where in_balance_scope) as schools,
        coalesce(sum(students) filter (where in_balance_scope), 0) as students
    from sections
    group by school_year, county_code, section
),

single_indicators as (
    select
        sections_present.school_year,
        sections_present.county_code,
        sections_present.section,
        thresholds.method,
        thresholds.indicator,
        sections_present.schools,
        sections_present.students,
        computed.county_value,
        computed.std_dev,
        computed.cv,
        thresholds.cv_limit,
        case when thresholds.school_min_value is not null
             then coalesce(below_threshold.schools_below_threshold, 0) end
            as schools_below_threshold
    from sections_present
    inner join thresholds
        on thresholds.section = sections_present.section
       and thresholds.indicator <> 'composite'
    -- Each has at most one row per county-year, section and indicator.
    {%- for part in ['computed', 'below_threshold'] %}
    {{ county_year_join(part, 'sections_present') }}
       and {{ part }}.section = sections_present.section
       and {{ part }}.indicator = thresholds.indicator
    {%- endfor %}
),

composites as (
    select
        single_indicators.school_year,
        single_indicators.county_code,
        single_indicators.section,
        single_indicators.method,
        thresholds.indicator,
        max(single_indicators.schools) as schools,
        max(single_indicators.students) as students,
        null::numeric as county_value,
        null::numeric as std_dev,
        case when count(single_indicators.cv) = count(*)
             then avg(single_indicators.cv) end as cv,
        max(thresholds.cv_limit) as cv_limit,
        null::bigint as schools_below_threshold
    from single_indicators
    inner join thresholds
        on thresholds.method = single_indicators.method
       and thresholds.section = single_indicators.section
       and thresholds.indicator = 'composite'
    group by
        single_indicators.school_year,
        single_indicators.county_code,
        single_indicators.section,
        single_indicators.method,
        thresholds.indicator
),

all_rows as (
    select * from single_indicators
    union all
    select * from composites
)

select
    school_year,
    county_code,
    section,
    method,
    indicator,
    schools,
    students,
    county_value,
    std_dev,
    cv,
    cv_limit,
    cv <= cv_limit as cv_ok,
    schools_below_threshold
from all_rows
