-- The 2017 indicators by 城乡 area per county, year and section (int_region_area_values_aggregated):
-- the same scope and arithmetic as county_value in county_indicator_cv, over the county's
-- in-scope school sections of each area.
with area_values as {{ scoped_ref('int_region_area_values_aggregated', 'region_code', where="region_level = 'county'") }},

counties as (
    select * from {{ ref('int_submissions_current') }}
),

divisions as (
    select * from {{ ref('divisions') }}
),

indicators as (
    select * from {{ ref('indicators') }}
)

select
    area_values.school_year,
    area_values.region_code as county_code,
    counties.county_name,
    counties.prefecture_code,
    prefectures.division_name as prefecture_name,
    counties.province_code,
    provinces.division_name as province_name,
    area_values.section,
    area_values.area,
    area_values.indicator,
    indicators.name_zh as indicator_name_zh,
    area_values.schools,
    area_values.students,
    area_values.value,
    area_values.ratio_to_urban
from area_values
inner join counties
    on counties.school_year = area_values.school_year
   and counties.county_code = area_values.region_code
left join divisions as prefectures
    on prefectures.division_code = counties.prefecture_code
left join divisions as provinces
    on provinces.division_code = counties.province_code
left join indicators
    on indicators.indicator = area_values.indicator
