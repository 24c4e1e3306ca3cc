{#-
  差异系数 (CV), student-weighted, population form — the one place the formula is written
  (docs/methodology.md#cv). For each group of `group_by` over the rows with students > 0:

      P  = Σ Pᵢ                     X = Σ xᵢ          (xᵢ: resource already times its share)
      X̄  = X / P                    (× per_students for per-100 indicators)
      S  = √( Σ (Pᵢ/P) · (Xᵢ − X̄)² ),   Xᵢ = xᵢ / Pᵢ
      CV = S / X̄                    NULL when X̄ = 0; 0 for a single row.

  Written with Xᵢ − X̄ = (xᵢ·P − Pᵢ·X) / (Pᵢ·P), so each term is (xᵢ·P − Pᵢ·X)² / (Pᵢ·P³):
  the numerator is exact numeric arithmetic, terms are non-negative (no cancellation), and
  sections with identical ratios give exactly S = 0. Terms are divided at 40 decimal places and
  results stored at 20 (trailing zeros trimmed): far below the 1e-9 relative tolerance, and reproducible digit for digit
  (the dbt unit test pins the published 5-school example).
  A group with no row in scope (n = 0) yields no row here; callers that need the row left-join
  and get NULLs. per_students (1 or 100) scales county_value and std_dev, not the CV.

  Returns a SELECT with: <group_by…>, schools (n), students (P), county_value (X̄), std_dev (S), cv.
-#}
{% macro weighted_cv(relation, group_by, students, amount, per_students='1', where=none) %}
    {%- set keys = group_by | join(', ') -%}
    with cv_input as (
        select
            {{ keys }},
            ({{ students }})::numeric as p_i,
            ({{ amount }})::numeric as x_i,
            ({{ per_students }})::numeric as k
        from {{ relation }}
        where ({{ students }}) > 0
        {%- if where %} and ({{ where }}){% endif %}
    ),

    cv_totals as (
        select
            cv_input.*,
            sum(p_i) over (partition by {{ keys }}) as p_total,
            sum(x_i) over (partition by {{ keys }}) as x_total
        from cv_input
    ),

    cv_terms as (
        select
            {{ keys }},
            p_i, k, p_total, x_total,
            round((x_i * p_total - p_i * x_total) * (x_i * p_total - p_i * x_total), 40)
                / (p_i * p_total * p_total * p_total) as weighted_square
        from cv_totals
    ),

    cv_grouped as (
        select
            {{ keys }},
            count(*) as schools,
            max(p_total) as students,
            max(k) as k,
            round(max(x_total), 40) / max(p_total) as mean_per_student,
            sqrt(sum(weighted_square)) as sd_per_student
        from cv_terms
        group by {{ keys }}
    )

    select
        {{ keys }},
        schools,
        students,
        trim_scale(round(k * mean_per_student, 20)) as county_value,
        trim_scale(round(k * sd_per_student, 20)) as std_dev,
        case when mean_per_student = 0 then null
             else trim_scale(round(sd_per_student / mean_per_student, 20)) end as cv
    from cv_grouped
{% endmacro %}
