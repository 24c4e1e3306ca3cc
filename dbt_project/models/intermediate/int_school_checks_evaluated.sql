-- The other 优质均衡 checks, per school (docs/methodology.md#other-checks): class size
-- limits, 大班额, school size and music/art rooms. Limits come from the policy seed; a school
-- with both compulsory sections (九年/十二年一贯制) has the combined size limit, any other
-- school the single-section one, counted on its compulsory (primary + junior) students.
with schools as {{ scoped_ref('int_school_rows_current') }},

school_types as (
    select * from {{ ref('school_types') }}
),

limits as (
    select
        schools.*,
        -- bigint: two int4 counts may sum past int4.
        schools.primary_classes::bigint + schools.junior_classes as compulsory_classes,
        case when school_types.has_primary_section and school_types.has_junior_section
             then {{ policy_number('combined_school_max_students') }}
             else {{ policy_number('single_section_school_max_students') }}
        end as max_students,
        ceil((schools.primary_classes::bigint + schools.junior_classes)
             / {{ policy_number('classes_per_special_room') }}) as required_special_rooms
    from schools
    left join school_types on school_types.school_type = schools.school_type
)

select
    school_year,
    county_code,
    school_code,
    school_type,
    in_balance_scope,
    primary_max_class_size,
    junior_max_class_size,
    (primary_max_class_size > {{ policy_number('primary_max_class_size') }}
        or junior_max_class_size > {{ policy_number('junior_max_class_size') }})
        as has_oversize_class,
    large_classes,
    compulsory_classes,
    compulsory_students,
    max_students,
    compulsory_students > max_students as is_oversize,
    music_rooms,
    art_rooms,
    required_special_rooms,
    (music_rooms < required_special_rooms or art_rooms < required_special_rooms)
        as has_music_art_room_shortfall
from limits
