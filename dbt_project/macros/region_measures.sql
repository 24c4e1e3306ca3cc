{#- The county marts cut from int_region_measures_aggregated, and region_summary beside them:
    the 班班通 coverage and 校校通 broadband column groups are listed once, in mart order. -#}

{% macro coverage_measures() -%}
    {{ return(['classrooms', 'multimedia_classrooms', 'coverage_ratio', 'schools_fully_covered',
               'fully_covered_share', 'multimedia_rooms_per_100']) }}
{%- endmacro %}

{% macro broadband_measures() -%}
    {{ return(['schools_connected', 'connected_share', 'schools_100mbps_plus', 'share_100mbps_plus',
               'schools_10mbps_plus', 'share_10mbps_plus', 'median_bandwidth_mbps']) }}
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
