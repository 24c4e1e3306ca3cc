{#- Casts for raw.school_rows text. raw holds rejected files too, whose cells may not be
    numbers: a plain cast would make any query over the staging view fail as soon as Postgres
    evaluates it on such a row (it may, before filtering to accepted submissions). The guard
    turns text that is not a clean value into NULL instead; accepted rows are guaranteed clean
    by validation, and not_null tests on the current rows catch any that are not. -#}

{% macro to_int(column) -%}
    case when btrim({{ column }}) ~ '^[0-9]{1,9}$' then btrim({{ column }})::integer end
{%- endmacro %}

{% macro to_num(column) -%}
    case when btrim({{ column }}) ~ '^[0-9]{1,15}(\.[0-9]{1,15})?$'
         then btrim({{ column }})::numeric end
{%- endmacro %}

{% macro to_text(column) -%}
    nullif(btrim({{ column }}), '')
{%- endmacro %}
