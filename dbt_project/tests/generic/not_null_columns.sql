{#- Rows where any of `columns` is NULL: one query per model instead of one not_null test per
    column (the whole build stays fast; the failing rows show which column). -#}
{% test not_null_columns(model, columns, build_scope=false) %}
select *
from {{ scoped_relation(model, build_scope) }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
