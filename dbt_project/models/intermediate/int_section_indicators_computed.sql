-- One row per school section × indicator (the seven 2017 and the further four 2012 resource
-- indicators): the section's resource total xᵢ (already times its asset share, in real units:
-- teachers, ㎡, 元, books, computers, rooms), its students Pᵢ, and the value xᵢ / Pᵢ × k with
-- k = 100 for the per-100 indicators (indicators seed). Long form so the CV macro, the
-- compliance rule and the resource gaps each read one shape.
{{ config(indexes=[{'columns': ['county_code', 'school_year']}]) }}
with sections as {{ scoped_ref('int_school_sections_split') }},

indicators as (
    select * from {{ ref('indicators') }}
),

amounts as (
    select
        sections.section_id,
        sections.school_year,
        sections.county_code,
        sections.school_code,
        sections.school_type,
        sections.section,
        sections.in_balance_scope,
        sections.students,
        resource.indicator,
        resource.amount
    from sections
    cross join lateral (
        values
            ('qualified_teachers_per_100', sections.qualified_teachers::numeric),
            ('backbone_teachers_per_100', sections.backbone_teachers::numeric),
            ('pe_arts_teachers_per_100', sections.pe_arts_teachers::numeric),
            ('teaching_area_per_student', sections.teaching_area_m2),
            ('sports_area_per_student', sections.sports_area_m2),
            ('equipment_value_per_student', sections.equipment_value_yuan),
            ('multimedia_rooms_per_100', sections.multimedia_classrooms),
            ('computers_per_100', sections.computers),
            ('books_per_student', sections.books),
            ('teachers_per_100', sections.teachers::numeric),
            ('senior_title_teachers_per_100', sections.senior_title_teachers::numeric)
    ) as resource (indicator, amount)
)

select
    amounts.section_id,
    amounts.school_year,
    amounts.county_code,
    amounts.school_code,
    amounts.school_type,
    amounts.section,
    amounts.in_balance_scope,
    amounts.indicator,
    amounts.students,
    amounts.amount,
    indicators.per_students,
    amounts.amount * indicators.per_students / amounts.students as value
from amounts
left join indicators
    on indicators.indicator = amounts.indicator
