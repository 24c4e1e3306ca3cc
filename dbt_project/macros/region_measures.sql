{#- Column groups that a county mart and a region mart publish from the same intermediate rows,
    listed once in mart order: 班班通 coverage and 校校通 broadband (int_region_measures_aggregated:
    county_multimedia_coverage, county_broadband, region_summary) and the 城乡 values
    (int_region_area_values_aggregated: county_urban_rural, region_urban_rural). -#}

{% macro coverage_measures() -%}
    {{ return(['classrooms', 'multimedia_classrooms', 'coverage_ratio', 'schools_fully_covered',
               'fully_covered_share', 'multimedia_rooms_per_100']) }}
{%- endmacro %}

{% macro broadband_measures() -%}
    {{ return(['schools_connected', 'connected_share', 'schools_100mbps_plus', 'share_100mbps_plus',
               'schools_10mbps_plus', 'share_10mbps_plus', 'median_bandwidth_mbps']) }}
{%- endmacro %}

{% macro area_value_columns() -%}
    {{ return(['section', 'area', 'indicator', 'indicator_name_zh', 'schools', 'students', 'value',
               'ratio_to_urban']) }}
{%- endmacro %}

{#- A county mart: the county rows of tonight's scope, the county's codes and name, then
    `columns` of int_region_measures_aggregated. -#}
{% macro county_measures(columns) -%}
select
    measures.school_year,
    measures.region_code as county_code,
    measures.region_name as county_name,
    measures.prefecture_code,
    measures.province_code,
    {%- for column in columns %}
    measures.{{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from {{ ref('int_region_measures_aggregated') }} as measures
where measures.region_level = 'county'
  and {{ in_build_scope('measures.region_code', 'measures.school_year') }}
{%- endmacro %}
