-- One row per school section (学段): primary and/or junior as the school_types seed says, and
-- only when the section has students. Teachers, classes and class sizes are per section.
-- School-wide assets are split by the section's share of ALL the school's students
-- (primary + junior + senior): a 完全中学's 高中 takes its part of the buildings.
{{ config(indexes=[{'columns': ['county_code', 'school_year']}]) }}
with schools as {{ scoped_ref('int_school_rows_current') }},

school_types as (
    select * from {{ ref('school_types') }}
),

sections as (
    {%- for section in ['primary', 'junior'] %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        schools.*,
        '{{ section }}' as section,
        schools.{{ section }}_students as students,
        schools.{{ section }}_classes as classes,
        schools.{{ section }}_teachers as teachers,
        schools.{{ section }}_qualified_teachers as qualified_teachers,
        schools.{{ section }}_senior_title_teachers as senior_title_teachers,
        schools.{{ section }}_backbone_teachers as backbone_teachers,
        schools.{{ section }}_pe_arts_teachers as pe_arts_teachers,
        schools.{{ section }}_max_class_size as max_class_size
    from schools
    inner join school_types on school_types.school_type = schools.school_type
    where school_types.has_{{ section }}_section and schools.{{ section }}_students > 0
    {%- endfor %}
)

select
    school_id || '/' || section as section_id,
    school_id,
    school_year,
    county_code,
    county_name,
    prefecture_code,
    province_code,
    submission_id,
    school_code,
    school_name,
    school_type,
    urban_rural,
    section,
    in_balance_scope,
    students,
    school_students,
    {{ ratio('students', 'school_students') }} as asset_share,
    classes,
    teachers,
    qualified_teachers,
    senior_title_teachers,
    backbone_teachers,
    pe_arts_teachers,
    max_class_size,
    -- The section's part of each school-wide asset: asset × Pᵢ / (primary + junior + senior),
    -- multiplied before dividing so terminating results stay exact, in numeric: a count
    -- times students overflows int4 for a large school.
    teaching_area_m2 * students / school_students as teaching_area_m2,
    sports_area_m2 * students / school_students as sports_area_m2,
    equipment_value_10k_yuan * 10000 * students / school_students as equipment_value_yuan,
    books::numeric * students / school_students as books,
    computers::numeric * students / school_students as computers,
    classrooms::numeric * students / school_students as classrooms,
    multimedia_classrooms::numeric * students / school_students as multimedia_classrooms
from sections
