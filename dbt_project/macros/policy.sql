{#- Policy parameters come from the policy_parameters seed, never from SQL literals.
    A missing parameter must not silently become NULL (every comparison with it would pass or
    fail quietly): casting the fallback text makes the model fail with the parameter's name. -#}

{% macro policy_number(name) -%}
    (coalesce(
        (select p.value from {{ ref('policy_parameters') }} as p where p.parameter = '{{ name }}'),
        'missing policy parameter {{ name }} in seed policy_parameters'
    )::numeric)
{%- endmacro %}

{% macro policy_flag(name) -%}
    (coalesce(
        (select p.value from {{ ref('policy_parameters') }} as p where p.parameter = '{{ name }}'),
        'missing policy parameter {{ name }} in seed policy_parameters'
    )::boolean)
{%- endmacro %}
