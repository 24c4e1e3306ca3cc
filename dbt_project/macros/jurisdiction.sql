{#- The provinces whose county units are expected to submit.
    var('jurisdiction') wins (a list such as ['63'] or a comma-separated string), else the
    EDUSTAT_JURISDICTION environment variable (interface.md). Returns 'national', a list of
    2-digit province codes, or none (= the provinces that submitted). -#}
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
