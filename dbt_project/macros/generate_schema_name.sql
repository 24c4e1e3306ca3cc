{#- Custom schema names are used verbatim (staging, intermediate, marts, reference) instead of
    dbt's default <target_schema>_<custom>: the warehouse layout is a published contract. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
