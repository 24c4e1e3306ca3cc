{#- Incremental nights: rebuild only the county-years a night changed.

    var('build_scope') is set by the pipeline (edustat.warehouse.build_scope) on an incremental
    build: {"years": [2025], "keys": [["632801", 2024]], "retention_years": [],
    "retention_keys": [["632801", 2027]]}: whole school years and single (county, year) keys,
    plus those whose 初中三年巩固率 (only) follows a changed year Y-3 (retention=true). Without the
    var every county-year is in scope: a model run without it rebuilds everything, never less.

    Incremental models filter their inputs with in_build_scope() and delete the same
    county-years first (delete_build_scope, a pre-hook inside the model's transaction), then
    append: a county-year that now has fewer rows (or none, e.g. no gaps left) loses the old
    ones, which delete+insert on a unique key would keep. -#}

{% macro scope_terms(scope, county_column, year_column) -%}
    {%- set terms = [] -%}
    {%- if scope.get('years') -%}
        {%- do terms.append(year_column ~ ' in (' ~ (scope['years'] | map('int') | join(', ')) ~ ')') -%}
    {%- endif -%}
    {%- if scope.get('keys') -%}
        {%- set pairs = [] -%}
        {%- for key in scope['keys'] -%}
            {%- set pair = "('" ~ (key[0] | string | replace("'", "")) ~ "', " ~ (key[1] | int) ~ ")" -%}
            {%- if pair not in pairs -%}{%- do pairs.append(pair) -%}{%- endif -%}
        {%- endfor -%}
        {%- do terms.append('(' ~ county_column ~ ', ' ~ year_column ~ ') in (' ~ (pairs | join(', ')) ~ ')') -%}
    {%- endif -%}
    ({{ terms | join(' or ') if terms else 'false' }})
{%- endmacro %}

{% macro scope_predicate(county_column, year_column, retention=false) -%}
    {%- set scope = var('build_scope', none) -%}
    {%- if scope is none -%}true
    {%- elif retention -%}
        {{ scope_terms({'years': scope.get('years', []) + scope.get('retention_years', []),
                        'keys': scope.get('keys', []) + scope.get('retention_keys', [])},
                       county_column, year_column) }}
    {%- else -%}{{ scope_terms(scope, county_column, year_column) }}{%- endif -%}
{%- endmacro %}

{#- The same scope at province level, for region rows (a county changes its prefecture's and
    province's figures): every region of a province-year that holds a changed county.
    `code_column` is any division code of the province (province, prefecture or county code). -#}
{% macro province_scope_predicate(code_column, year_column) -%}
    {%- set scope = var('build_scope', none) -%}
    {%- if scope is none -%}true{%- else -%}
        {%- set keys = [] -%}
        {%- for key in scope.get('keys', []) -%}
            {%- do keys.append([(key[0] | string)[:2], key[1]]) -%}
        {%- endfor -%}
        {{ scope_terms({'years': scope.get('years', []), 'keys': keys}, 'left(' ~ code_column ~ ', 2)', year_column) }}
    {%- endif -%}
{%- endmacro %}

{#- level 'county': the columns hold a county code and a year; 'retention': the same, with the
    retention dependents; 'province': any division code and a year, matched on its province. -#}
{% macro _level_predicate(code_column, year_column, level) -%}
    {%- if level == 'province' -%}{{ province_scope_predicate(code_column, year_column) }}
    {%- else -%}{{ scope_predicate(code_column, year_column, retention=(level == 'retention')) }}{%- endif -%}
{%- endmacro %}

{#- The pre-hook of every intermediate and mart model (dbt_project.yml): delete_build_scope
    with the model's own keys, from its meta `build_scope` ({'level': 'province',
    'code_column': 'region_code'}; default: county_code and school_year at county level).
    A no-op unless the model is built incrementally. -#}
{% macro delete_model_build_scope() -%}
    {%- set scope = (model.config.get('meta') or {}).get('build_scope') or {} -%}
    {{ delete_build_scope(scope.get('code_column', 'county_code'),
                          scope.get('year_column', 'school_year'),
                          scope.get('level', 'county')) }}
{%- endmacro %}

{#- Written after `name as` for a CTE filtered by in_build_scope: on an incremental build its
    rows (one county-year's) are computed once. Postgres estimates such a filter at one row
    and, inlined, re-scans a national table for every row of the other side of a join (35 s
    instead of 0.1 s for school_resource_gaps with two years of data). -#}
{% macro scope_materialized() -%}
    {%- if is_incremental() -%}materialized{%- endif -%}
{%- endmacro %}

{#- The body of a CTE that reads one model's rows of tonight's scope (and the optional `where`
    filter): `with sections as {{ scoped_ref('int_school_sections_split') }}`. Filter and
    materialization go together (scope_materialized, above), so they are written once here. -#}
{% macro scoped_ref(model_name, code_column='county_code', year_column='school_year', level='county', where=none) -%}
    {{ scope_materialized() }} (
    select * from {{ ref(model_name) }}
    where {% if where %}{{ where }} and {% endif %}{{ in_build_scope(code_column, year_column, level) }}
)
{%- endmacro %}

{% macro in_build_scope(code_column='county_code', year_column='school_year', level='county') -%}
    {%- if is_incremental() -%}{{ _level_predicate(code_column, year_column, level) }}{%- else -%}true{%- endif -%}
{%- endmacro %}

{% macro delete_build_scope(code_column='county_code', year_column='school_year', level='county') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ _level_predicate(code_column, year_column, level) }}
    {%- endif -%}
{%- endmacro %}

{#- The relation a data test reads: with build_scope=true (on the large school-grain models,
    for row-level checks and keys that contain the county and year), only the county-years of
    an incremental build; rows outside it are unchanged since the last build passed its tests. -#}
{% macro scoped_relation(model, build_scope) -%}
    {%- if build_scope and var('build_scope', none) is not none -%}
        (select * from {{ model }} where {{ scope_predicate('county_code', 'school_year') }}) as scoped
    {%- else -%}{{ model }}{%- endif -%}
{%- endmacro %}

{#- Post-hook of every intermediate and mart table: fresh statistics for the next model and for
    the ministries' queries, except after an incremental build of single county-years, which
    moves the statistics of a national table by nothing (autovacuum keeps them current). -#}
{% macro analyze_after_build() -%}
    {%- set scope = var('build_scope', none) -%}
    {%- if not is_incremental() or scope is none or scope.get('years') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
