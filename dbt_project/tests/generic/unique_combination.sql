{#- A grain test: combinations of `combination_of_columns` that occur more than once. -#}
{% test unique_combination(model, combination_of_columns) %}
{%- set keys = combination_of_columns | join(', ') %}
select {{ keys }}, count(*) as occurrences
from {{ model }}
group by {{ keys }}
having count(*) > 1
{% endtest %}
