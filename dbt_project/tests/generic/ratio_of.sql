{#- The column is exactly numerator ÷ denominator of the same row (NULL when the denominator is
    0 or NULL, as the ratio macro makes it). Declared on region_summary's shares and ratios, it
    is also how the reports learn which counts a ratio is made of: summed over a set of counties
    (year-over-year change over the counties reporting in both years), numerator and
    denominator give the same ratio for that set (edustat.reports.interface reads these tests). -#}
{% test ratio_of(model, column_name, numerator, denominator) %}
select *
from {{ model }}
where not coalesce(
    {{ column_name }} is not distinct from {{ ratio(numerator, denominator) }},
    false
)
{% endtest %}
