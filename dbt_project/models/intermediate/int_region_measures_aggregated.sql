-- School-level totals and the coverage/broadband ratios for every county, prefecture and
-- province, in one pass with grouping sets: every level is recomputed from school rows,
-- never averaged from the level below. The county marts and region_summary read their
-- figures from here so each formula is written once.
{{ config(meta={'build_scope': {'code_column': 'province_code', 'level': 'province'}}) }}
with schools as {{ scoped_ref('int_school_rows_current', 'province_code', level='province') }},

sections as {{ scoped_ref('int_school_sections_split', 'province_code', level='province') }},

divisions as (
    select * from {{ ref('divisions') }}
),

-- Per school: the multimedia rooms attributed to its primary and junior sections, for the
-- 2017 indicator multimedia_rooms_per_100 at county level (Σ xᵢ / Σ Pᵢ × 100).
section_totals as (
    select
        school_id,
        sum(multimedia_classrooms) as section_multimedia_classrooms,
        sum(students) as section_students
    from sections
    group by school_id
),

school_measures as (
    select
        schools.school_year,
        schools.province_code,
        schools.prefecture_code,
        schools.county_code,
        schools.school_students,
        schools.classrooms,
        schools.multimedia_classrooms,
        schools.multimedia_classrooms >= schools.classrooms as is_fully_covered,
        schools.has_internet,
        schools.bandwidth_mbps,
        coalesce(section_totals.section_multimedia_classrooms, 0) as section_multimedia_classrooms,
        coalesce(section_totals.section_students, 0) as section_students
    from schools
    left join section_totals
        on section_totals.school_id = schools.school_id
),

grouped as (
    select
        {{ region_key_columns() }},
        province_code,
        prefecture_code,
        count(distinct county_code) as counties,
        count(*) as schools,
        sum(school_students)::bigint as students,  -- the marts declare a count: bigint
        sum(classrooms) as classrooms,
        sum(multimedia_classrooms) as multimedia_classrooms,
        count(*) filter (where is_fully_covered) as schools_fully_covered,
        sum(section_multimedia_classrooms) as section_multimedia_classrooms,
        sum(section_students) as section_students,
        count(*) filter (where has_internet) as schools_connected,
        count(*) filter (where bandwidth_mbps >= {{ policy_number('bandwidth_target_mbps') }})
            as schools_100mbps_plus,
        count(*) filter (where bandwidth_mbps >= {{ policy_number('bandwidth_basic_mbps') }})
            as schools_10mbps_plus,
        sum(bandwidth_mbps) as bandwidth_mbps_total,
        -- percentile_cont: the mean of the two middle schools when their number is even.
        (percentile_cont(0.5) within group (order by bandwidth_mbps))::numeric
            as median_bandwidth_mbps
    from school_measures
    {{ region_grouping_sets() }}
)

select
    grouped.school_year,
    grouped.region_level,
    grouped.region_code,
    {{ region_name('grouped.region_level') }} as region_name,
    grouped.province_code,
    grouped.prefecture_code,
    grouped.counties,
    grouped.schools,
    grouped.students,
    grouped.classrooms,
    grouped.multimedia_classrooms,
    {{ ratio('grouped.multimedia_classrooms', 'grouped.classrooms') }} as coverage_ratio,
    grouped.schools_fully_covered,
    {{ ratio('grouped.schools_fully_covered', 'grouped.schools') }} as fully_covered_share,
    100 * {{ ratio('grouped.section_multimedia_classrooms', 'grouped.section_students') }}
        as multimedia_rooms_per_100,
    grouped.schools_connected,
    {{ ratio('grouped.schools_connected', 'grouped.schools') }} as connected_share,
    grouped.schools_100mbps_plus,
    {{ ratio('grouped.schools_100mbps_plus', 'grouped.schools') }} as share_100mbps_plus,
    grouped.schools_10mbps_plus,
    {{ ratio('grouped.schools_10mbps_plus', 'grouped.schools') }} as share_10mbps_plus,
    grouped.median_bandwidth_mbps,
    grouped.bandwidth_mbps_total,
    1000 * {{ ratio('grouped.bandwidth_mbps_total', 'grouped.students') }} as kbps_per_student
from grouped
left join divisions
    on divisions.division_code = grouped.region_code
