-- The 2017 indicators by 城乡 area for every prefecture and province, year and section,
-- recomputed from the school sections of the region (never averaged from county values).
{{ config(meta={'build_scope': {'code_column': 'region_code', 'level': 'province'}}) }}
with area_values as {{ scoped_ref('int_region_area_values_aggregated', 'region_code', level='province', where="region_level <> 'county'") }},

divisions as (
    select * from {{ ref('divisions') }}
)

select
    area_values.school_year,
    area_values.region_level,
    area_values.region_code,
    {{ region_name('area_values.region_level') }} as region_name,
    left(area_values.region_code, 2) || '0000' as province_code,
    {%- for column in area_value_columns() %}
    area_values.{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from area_values
left join divisions
    on divisions.division_code = area_values.region_code
