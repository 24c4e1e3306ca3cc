-- The 2017 indicators by 城乡 area per county, year and section (int_region_area_values_aggregated):
-- the same scope and arithmetic as county_value in county_indicator_cv, over the county's
-- in-scope school sections of each area.
with area_values as {{ scoped_ref('int_region_area_values_aggregated', 'region_code', where="region_level = 'county'") }}

select
    {{ county_identity_columns('area_values', 'region_code', names=true) }},
    {%- for column in area_value_columns() %}
    area_values.{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from area_values
{{ county_identity_join('area_values', 'region_code', names=true) }}
