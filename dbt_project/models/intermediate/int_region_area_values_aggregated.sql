-- The 2017 indicators by 城乡 area (urban 城区, town 镇区, rural 乡村) for every county,
-- prefecture and province, year and section: over the school sections in balance scope in
-- that area, schools, students, Σxᵢ and the value Σxᵢ / ΣPᵢ (× 100 for the per-100
-- indicators), written exactly as county_value in macros/weighted_cv.sql. Every level is
-- recomputed from the sections (grouping sets), never averaged. Each region-year-section that
-- has the section at all gets all three areas × seven indicators; an area without schools
-- has schools = 0, students = 0 and NULL value.
{{ config(meta={'build_scope': {'code_column': 'region_code', 'level': 'province'}}) }}
with sections as {{ scoped_ref('int_school_sections_split', 'province_code', level='province') }},

indicator_values as {{ scoped_ref('int_section_indicators_computed', 'county_code', level='province', where='in_balance_scope') }},

indicators as (
    select distinct indicators.indicator, indicators.name_zh, indicators.per_students
    from {{ ref('indicators') }} as indicators
    inner join {{ ref('indicator_thresholds') }} as thresholds
        on thresholds.indicator = indicators.indicator
       and thresholds.method = '2017'
),

areas as (
    select distinct area from {{ ref('urban_rural_areas') }}
),

-- Every region-year-section present (in or out of balance scope, as county_indicator_cv).
present as (
    select distinct
        {{ region_key_columns(['section']) }}
    from sections
    {{ region_grouping_sets(['section']) }}
),

area_amounts as (
    select
        indicator_values.school_year,
        sections.province_code,
        sections.prefecture_code,
        sections.county_code,
        indicator_values.section,
        urban_rural_areas.area,
        indicator_values.indicator,
        indicator_values.students,
        indicator_values.amount
    from indicator_values
    inner join indicators
        on indicators.indicator = indicator_values.indicator
    inner join sections
        on sections.section_id = indicator_values.section_id
    inner join {{ ref('urban_rural_areas') }} as urban_rural_areas
        on urban_rural_areas.urban_rural = sections.urban_rural
),

grouped as (
    {%- set keys = ['section', 'area', 'indicator'] %}
    select
        {{ region_key_columns(keys) }},
        count(*) as schools,
        sum(students) as students,
        sum(amount) as amount
    from area_amounts
    {{ region_grouping_sets(keys) }}
),

valued as (
    select
        present.school_year,
        present.region_level,
        present.region_code,
        present.section,
        areas.area,
        indicators.indicator,
        indicators.name_zh as indicator_name_zh,
        coalesce(grouped.schools, 0) as schools,
        coalesce(grouped.students, 0) as students,
        coalesce(grouped.amount, 0) as amount,
        trim_scale(round(
            indicators.per_students * (round(grouped.amount, 40) / nullif(grouped.students, 0)),
            20)) as value
    from present
    cross join areas
    cross join indicators
    {{ region_join('grouped', 'present') }}
       and grouped.section = present.section
       and grouped.area = areas.area
       and grouped.indicator = indicators.indicator
)

select
    valued.*,
    -- The 城乡 gap: this area's value over the urban value of the same region, section and
    -- indicator (1 on the urban row); NULL when either is undefined or the urban value is 0.
    {{ ratio('valued.value', "max(valued.value) filter (where valued.area = 'urban') over (partition by valued.school_year, valued.region_code, valued.section, valued.indicator)") }}
        as ratio_to_urban
from valued
