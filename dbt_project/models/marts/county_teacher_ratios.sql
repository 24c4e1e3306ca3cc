-- Teacher ratios per county, year and section (every school section, 教学点 included).
with measures as {{ scoped_ref('int_region_section_measures_aggregated', 'region_code', where="region_level = 'county'") }}

select
    {{ county_identity_columns('measures', 'region_code') }},
    measures.section,
    measures.school_sections,
    measures.students,
    measures.teachers,
    measures.student_teacher_ratio,
    measures.classes,
    measures.teachers_per_class,
    measures.qualified_teachers_per_100,
    measures.backbone_teachers_per_100,
    measures.pe_arts_teachers_per_100,
    measures.senior_title_teachers,
    measures.senior_title_share
from measures
{{ county_identity_join('measures', 'region_code') }}
