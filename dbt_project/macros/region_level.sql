{#- The level and code of a row grouped per county, prefecture and province (region_grouping_sets
    below, or `group by rollup (province_code, prefecture_code, county_code)`): written once for
    every model that recomputes figures at county, prefecture and province level. -#}
{% macro region_level_columns() -%}
        case
            when grouping(county_code) = 0 then 'county'
            when grouping(prefecture_code) = 0 then 'prefecture'
            else 'province'
        end as region_level,
        coalesce(county_code, prefecture_code, province_code) as region_code
{%- endmacro %}

{#- The name of such a row: its division's name from the divisions seed joined as `divisions`.
    x90000 codes (省直辖县级行政区划) have no row of their own in the divisions list. -#}
{% macro region_name(level_column) -%}
    coalesce(
        divisions.division_name,
        case when {{ level_column }} = 'prefecture' then '省直辖县级行政区划' end
    )
{%- endmacro %}

{#- The grouping sets that give such rows: the same input rows grouped per county, prefecture
    and province (each level recomputed, never averaged from the one below), per school year
    and `keys`. -#}
{% macro region_grouping_sets(keys=[]) -%}
    {%- set tail = ([''] + keys) | join(', ') -%}
    group by grouping sets (
        (school_year, province_code, prefecture_code, county_code{{ tail }}),
        (school_year, province_code, prefecture_code{{ tail }}),
        (school_year, province_code{{ tail }})
    )
{%- endmacro %}

{#- The columns such a row leads with: school year, level and code, then the same `keys` given
    to region_grouping_sets. -#}
{% macro region_key_columns(keys=[]) -%}
        school_year,
        {{ region_level_columns() }}
        {%- for key in keys %},
        {{ key }}
        {%- endfor %}
{%- endmacro %}

{#- `kind` join of `name` to the row of `to` for the same region (level and code) and, with
    year=true, school year. Further conditions may follow as `and …` lines. -#}
{% macro region_join(name, to, kind='left', year=true) -%}
    {{ kind }} join {{ name }}
        on {% if year %}{{ name }}.school_year = {{ to }}.school_year
       and {% endif %}{{ name }}.region_level = {{ to }}.region_level
       and {{ name }}.region_code = {{ to }}.region_code
{%- endmacro %}
