{#- Rows for which a boolean SQL expression is false (NULL counts as a failure unless
    `null_passes`): row-level rules that span columns, e.g. compliant implies 6+ met. -#}
{% test expression_is_true(model, expression, where=none, null_passes=false,
                          build_scope=false) %}
select *
from {{ scoped_relation(model, build_scope) }}
where {% if null_passes %}({{ expression }}) is false{% else %}({{ expression }}) is not true{% endif %}
  {%- if where %} and ({{ where }}){% endif %}
{% endtest %}
