-- What each school section lacks to reach each 2017 threshold it misses, in real units
-- (teachers, ㎡, 元, rooms): threshold × students / k − the section's resource total, k = 100
-- for per-100 indicators. One row per missed threshold; met thresholds have no row.
{{ config(indexes=[{'columns': ['county_code', 'school_year']}]) }}
with indicator_values as {{ scoped_ref('int_section_indicators_computed') }},

thresholds as (
    select * from {{ ref('indicator_thresholds') }}
    where method = '2017' and school_min_value is not null
),

indicators as (
    select * from {{ ref('indicators') }}
),

sections as {{ scoped_ref('int_school_sections_split') }}

select
    indicator_values.school_year,
    indicator_values.school_code,
    indicator_values.section,
    indicator_values.indicator,
    indicator_values.county_code,
    sections.county_name,
    sections.prefecture_code,
    sections.province_code,
    sections.school_name,
    sections.school_type,
    indicator_values.in_balance_scope,
    indicators.name_zh as indicator_name_zh,
    indicators.name_en as indicator_name_en,
    indicator_values.students,
    indicator_values.amount as current_amount,
    indicator_values.value,
    thresholds.school_min_value as threshold,
    thresholds.school_min_value * indicator_values.students / indicator_values.per_students
        - indicator_values.amount as shortfall,
    indicators.resource_unit_zh as shortfall_unit_zh,
    indicators.resource_unit_en as shortfall_unit_en
from indicator_values
inner join thresholds
    on thresholds.section = indicator_values.section
   and thresholds.indicator = indicator_values.indicator
inner join sections
    on sections.section_id = indicator_values.section_id
left join indicators
    on indicators.indicator = indicator_values.indicator
where indicator_values.value < thresholds.school_min_value
