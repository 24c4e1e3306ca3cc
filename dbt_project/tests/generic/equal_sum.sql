{#- Consistency between layers: for each group of `group_by`, sum(column) in this model equals
    sum(compare_column) in `compare_model` (e.g. a county total equals the sum over its schools).
    Groups present on one side only count with a sum of 0 on the other. -#}
{% test equal_sum(model, column_name, compare_model, compare_column, group_by, where=none, compare_where=none) %}
{%- set keys = group_by | join(', ') %}
with this_side as (
    select {{ keys }}, sum({{ column_name }})::numeric as total
    from {{ model }}
    {%- if where %} where {{ where }}{% endif %}
    group by {{ keys }}
),
other_side as (
    select {{ keys }}, sum({{ compare_column }})::numeric as total
    from {{ compare_model }}
    {%- if compare_where %} where {{ compare_where }}{% endif %}
    group by {{ keys }}
)
select
    {% for k in group_by %}coalesce(t.{{ k }}, o.{{ k }}) as {{ k }}, {% endfor %}
    t.total as model_total,
    o.total as compare_total
from this_side as t
full outer join other_side as o
    on {% for k in group_by %}t.{{ k }} = o.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
where coalesce(t.total, 0) <> coalesce(o.total, 0)
{% endtest %}
