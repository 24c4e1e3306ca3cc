{#- County-grain models are keyed by school year and county code, and county marts publish the
    county's identity beside the key: its name and its prefecture and province codes, from
    int_submissions_current (county_measures in region_measures.sql takes them from its region
    rows instead). Written once here. -#}

{#- `kind` join of `name` (a CTE, or `relation` under that alias) to the county-year of `to`
    (school_year, and the county code in `code_column`): the key of every county-grain model.
    Further conditions may follow as `and …` lines. -#}
{% macro county_year_join(name, to='counties', kind='left', code_column='county_code', relation=none) -%}
    {{ kind }} join {% if relation %}{{ relation }} as {% endif %}{{ name }}
        on {{ name }}.school_year = {{ to }}.school_year
       and {{ name }}.county_code = {{ to }}.{{ code_column }}
{%- endmacro %}

{#- The leading columns of such a mart: school_year and county_code from `rows` (county code in
    `code_column`), the county's name and codes from `counties` (int_submissions_current: the
    model's own CTE of that name, or county_identity_join below), and with names=true the
    prefecture's and province's names. -#}
{% macro county_identity_columns(rows='counties', code_column='county_code', names=false) -%}
    {{ rows }}.school_year,
    {{ rows }}.{{ code_column }}{% if code_column != 'county_code' %} as county_code{% endif %},
    counties.county_name,
    counties.prefecture_code,
    {%- if names %}
    prefectures.division_name as prefecture_name,
    {%- endif %}
    counties.province_code
    {%- if names %},
    provinces.division_name as province_name
    {%- endif %}
{%- endmacro %}

{#- The joins county_identity_columns reads when `rows` is not int_submissions_current itself.
    Inner: a county mart publishes only county-years that have a current submission. -#}
{% macro county_identity_join(rows, code_column='county_code', names=false) -%}
    {{ county_year_join('counties', rows, 'inner', code_column, relation=ref('int_submissions_current')) }}
    {%- if names %}
    {%- for level in ['prefecture', 'province'] %}
    left join {{ ref('divisions') }} as {{ level }}s
        on {{ level }}s.division_code = counties.{{ level }}_code
    {%- endfor %}
    {%- endif %}
{%- endmacro %}
