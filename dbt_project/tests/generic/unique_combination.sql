{#- A grain test: combinations of `combination_of_columns` that occur more than once.
    build_scope=true: on an incremental build, only combinations that occur among the build's
    county-years are counted (over the whole table, so a changed county colliding with an
    unchanged one is caught); duplicates among unchanged rows were caught when they were built. -#}
{% test unique_combination(model, combination_of_columns, build_scope=false) %}
{%- set keys = combination_of_columns | join(', ') %}
select {{ keys }}, count(*) as occurrences
from {{ model }}
{%- if build_scope and var('build_scope', none) is not none %}
where ({{ keys }}) in (
    select {{ keys }} from {{ model }}
    where {{ scope_predicate('county_code', 'school_year') }}
)
{%- endif %}
group by {{ keys }}
having count(*) > 1
{% endtest %}
