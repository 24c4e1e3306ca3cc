-- Teacher totals and ratios per section for every county, prefecture and province, from the
-- school sections (all of them, 小学教学点 included), recomputed from totals at each level.
{{ config(meta={'build_scope': {'code_column': 'region_code', 'level': 'province'}}) }}
with sections as {{ scoped_ref('int_school_sections_split', 'province_code', level='province') }},

grouped as (
    select
        {{ region_key_columns(['section']) }},
        count(*) as school_sections,
        sum(students) as students,
        sum(classes) as classes,
        sum(teachers) as teachers,
        sum(qualified_teachers) as qualified_teachers,
        sum(backbone_teachers) as backbone_teachers,
        sum(pe_arts_teachers) as pe_arts_teachers,
        sum(senior_title_teachers) as senior_title_teachers
    from sections
    {{ region_grouping_sets(['section']) }}
)

select
    school_year,
    region_level,
    region_code,
    section,
    school_sections,
    students,
    classes,
    teachers,
    qualified_teachers,
    backbone_teachers,
    pe_arts_teachers,
    senior_title_teachers,
    {{ ratio('students', 'teachers') }} as student_teacher_ratio,
    -- 班师比: teachers and classes of the same school sections.
    {{ ratio('teachers', 'classes') }} as teachers_per_class,
    100 * {{ ratio('qualified_teachers', 'students') }} as qualified_teachers_per_100,
    100 * {{ ratio('backbone_teachers', 'students') }} as backbone_teachers_per_100,
    100 * {{ ratio('pe_arts_teachers', 'students') }} as pe_arts_teachers_per_100,
    {{ ratio('senior_title_teachers', 'teachers') }} as senior_title_share
from grouped
