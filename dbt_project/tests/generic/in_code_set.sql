{#- Values of a code column that are not codes of `code_set` in the code_labels seed: every code
    a mart writes has its one label there (edustat.reports.labels). -#}
{% test in_code_set(model, column_name, code_set) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }}::text not in (
      select code from {{ ref('code_labels') }} where code_set = '{{ code_set }}'
  )
{% endtest %}
