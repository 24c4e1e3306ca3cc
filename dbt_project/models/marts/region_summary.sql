-- Headline coverage, broadband and teacher-ratio figures for every county, prefecture and
-- province and year, each level recomputed from school totals (never averaged from below).
-- Only counties with an accepted submission for the year contribute: counties_reporting says
-- how many, counties_expected how many county units the region has under the jurisdiction
-- (int_counties_expected), so every figure can say "N/M 县".
{{ config(meta={'build_scope': {'code_column': 'region_code', 'level': 'province'}}) }}
with measures as {{ scoped_ref('int_region_measures_aggregated', 'region_code', level='province') }},

section_measures as {{ scoped_ref('int_region_section_measures_aggregated', 'region_code', level='province') }},

-- County units expected per county, prefecture and province (one count per level).
expected as (
    select
        {{ region_level_columns() }},
        count(*) as counties_expected
    from {{ ref('int_counties_expected') }}
    group by rollup (province_code, prefecture_code, county_code)
    having grouping(province_code) = 0
),

teachers as (
    select
        school_year,
        region_level,
        region_code,
        {%- for section in ['primary', 'junior'] %}
        {%- for measure in ['students', 'teachers', 'student_teacher_ratio',
                            'qualified_teachers_per_100', 'senior_title_share'] %}
        max({{ measure }}) filter (where section = '{{ section }}') as {{ section }}_{{ measure }}
        {%- if not (loop.last and section == 'junior') %},{% endif %}
        {%- endfor %}
        {%- endfor %}
    from section_measures
    group by school_year, region_level, region_code
)

select
    measures.school_year,
    measures.region_level,
    measures.region_code,
    measures.region_name,
    measures.province_code,
    measures.prefecture_code,
    coalesce(expected.counties_expected, 0) as counties_expected,
    measures.counties as counties_reporting,
    measures.schools,
    measures.students,
    {%- for column in coverage_measures() + broadband_measures() %}
    measures.{{ column }},
    {%- endfor %}
    measures.kbps_per_student,
    {%- for section in ['primary', 'junior'] %}
    coalesce(teachers.{{ section }}_students, 0) as {{ section }}_students,
    coalesce(teachers.{{ section }}_teachers, 0) as {{ section }}_teachers,
    teachers.{{ section }}_student_teacher_ratio,
    teachers.{{ section }}_qualified_teachers_per_100,
    teachers.{{ section }}_senior_title_share{% if not loop.last %},{% endif %}
    {%- endfor %}
from measures
-- expected: one count per region, whatever the year.
{{ region_join('expected', 'measures', year=false) }}
{{ region_join('teachers', 'measures') }}
