-- One row per school section and year: the seven 2017 indicators (and the four further 2012
-- ones), how many thresholds the section meets and whether it is compliant.
{{ config(indexes=[{'columns': ['county_code', 'school_year']}]) }}
with sections as {{ scoped_ref('int_school_sections_split') }},

indicator_values as {{ scoped_ref('int_section_indicators_computed') }},

compliance as {{ scoped_ref('int_section_compliance_assessed') }},

-- Materialized: computed once. Inlined, a night's small scope lets Postgres estimate the join
-- below at one row and re-run this aggregate once per section (30 s instead of 0.1 s).
pivoted as materialized (
    select
        section_id,
        {%- for indicator in [
            'qualified_teachers_per_100', 'backbone_teachers_per_100', 'pe_arts_teachers_per_100',
            'teaching_area_per_student', 'sports_area_per_student',
            'equipment_value_per_student', 'multimedia_rooms_per_100',
            'computers_per_100', 'books_per_student', 'teachers_per_100',
            'senior_title_teachers_per_100'] %}
        max(value) filter (where indicator = '{{ indicator }}') as {{ indicator }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from indicator_values
    group by section_id
)

select
    sections.school_year,
    sections.county_code,
    sections.county_name,
    sections.prefecture_code,
    sections.province_code,
    sections.school_code,
    sections.school_name,
    sections.school_type,
    sections.urban_rural,
    sections.section,
    sections.students,
    sections.classes,
    sections.teachers,
    sections.asset_share,
    pivoted.qualified_teachers_per_100,
    pivoted.backbone_teachers_per_100,
    pivoted.pe_arts_teachers_per_100,
    pivoted.teaching_area_per_student,
    pivoted.sports_area_per_student,
    pivoted.equipment_value_per_student,
    pivoted.multimedia_rooms_per_100,
    pivoted.computers_per_100,
    pivoted.books_per_student,
    pivoted.teachers_per_100,
    pivoted.senior_title_teachers_per_100,
    compliance.indicators_met,
    compliance.compliant,
    sections.in_balance_scope,
    sections.submission_id
from sections
inner join pivoted
    on pivoted.section_id = sections.section_id
inner join compliance
    on compliance.section_id = sections.section_id
