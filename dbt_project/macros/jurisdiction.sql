{#- The provinces whose county units are expected to submit.
    var('jurisdiction') wins (a list such as ['63'] or a comma-separated string), else the
    EDUSTAT_JURISDICTION environment variable (docs/interface.md#settings). Returns 'national',
    a list of 2-digit province codes, or none (= the provinces that submitted). -#}
{% macro jurisdiction_provinces() %}
    {%- set raw = var('jurisdiction', env_var('EDUSTAT_JURISDICTION', '')) -%}
    {%- if raw is none -%}
        {%- set items = [] -%}
    {%- elif raw is string -%}
        {%- set items = raw.split(',') -%}
    {%- elif raw is iterable -%}
        {%- set items = raw | list -%}
    {%- else -%}
        {%- set items = [raw] -%}
    {%- endif -%}
    {%- set codes = [] -%}
    {%- for item in items -%}
        {%- set code = (item | string | trim) -%}
        {%- if code | lower == 'national' -%}
            {{ return('national') }}
        {%- elif code != '' -%}
            {%- if code | length < 2 or not code[:2].isdigit() -%}
                {{ exceptions.raise_compiler_error("jurisdiction: '" ~ code ~ "' is not a 2-digit province code or 'national'") }}
            {%- endif -%}
            {%- do codes.append(code[:2]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(codes if codes else none) }}
{% endmacro %}

{#- The first school year counties are asked for: var('first_year'), else EDUSTAT_FIRST_YEAR,
    else none (each province from the first year it submitted; see ops.expected_county_years). -#}
{% macro expected_first_year() %}
    {%- set raw = var('first_year', env_var('EDUSTAT_FIRST_YEAR', '')) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if not text.isdigit() or text | length != 4 -%}
        {{ exceptions.raise_compiler_error("first_year: '" ~ text ~ "' is not a 4-digit school year") }}
    {%- endif -%}
    {{ return(text | int) }}
{% endmacro %}

{#- The warehouse's one definition of where each county-year stands (ops.county_year_status in
    src/edustat/warehouse/schema.sql, also read by `edustat status` and the notices), called
    with this build's jurisdiction and first year. The platform owns the function, so it is
    not a dbt source: models name the ops.submissions dependency with
    `-- depends_on: ref('stg_ops__submissions')`. -#}
{% macro county_year_status() -%}
    {%- set provinces = jurisdiction_provinces() -%}
    {%- set first_year = expected_first_year() -%}
    {%- if provinces == 'national' -%}
        {%- set codes = "array['national']" -%}
    {%- elif provinces -%}
        {#- jurisdiction_provinces() returns 2-digit codes only: safe to quote. -#}
        {%- set codes = "array['" ~ (provinces | join("', '")) ~ "']" -%}
    {%- else -%}
        {%- set codes = "null" -%}
    {%- endif -%}
    ops.county_year_status({{ codes }}::text[], {{ first_year if first_year is not none else 'null' }}::integer)
{%- endmacro %}
