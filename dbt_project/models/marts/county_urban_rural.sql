-- The 2017 indicators by 城乡 area per county, year and section (int_region_area_values_aggregated):
-- the same scope and arithmetic as county_value in county_indicator_cv, over the county's
-- in-scope school sections of each area.
with area_values as {{ scoped_ref('int_region_area_values_aggregated', 'region_code', where="region_level = 'county'") }},

counties as (
    select * from {{ ref('int_submissions_current') }}
),

divisions as (
    select * from {{ ref('divisions') }}
)

select
    area_values.school_year,
    area_values.region_code as county_code,
    counties.county_name,
    counties.prefecture_code,
    prefectures.division_name as prefecture_name,
    counties.province_code,
    provinces.division_name as province_name,
    {%- for column in area_value_columns() %}
    area_values.{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from area_values
inner join counties
    on counties.school_year = area_values.school_year
   and counties.county_code = area_values.region_code
left join divisions as prefectures
    on prefectures.division_code = counties.prefecture_code
left join divisions as provinces
    on provinces.division_code = counties.province_code
