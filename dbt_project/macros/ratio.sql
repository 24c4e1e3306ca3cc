{#- A ratio as exact numeric, NULL when the denominator is 0 or NULL (undefined ratios are NULL
    per docs/interface.md#marts, never 0 and never an error). -#}
{% macro ratio(numerator, denominator) -%}
    (({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}
