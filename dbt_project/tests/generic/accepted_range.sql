{#- Rows whose value lies outside [min_value, max_value] (either bound optional; NULLs pass:
    not_null is its own test). `where` restricts the rows checked. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true, where=none,
                     build_scope=false) %}
select *
from {{ scoped_relation(model, build_scope) }}
where {{ column_name }} is not null
  {%- if where %} and ({{ where }}){% endif %}
  and (
      false
      {%- if min_value is not none %}
      or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
      {%- endif %}
      {%- if max_value is not none %}
      or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
      {%- endif %}
  )
{% endtest %}
