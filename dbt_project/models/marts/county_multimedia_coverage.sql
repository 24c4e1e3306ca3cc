-- 班班通: multimedia classroom coverage per county and year (every school, 教学点 included).
select
    measures.school_year,
    measures.region_code as county_code,
    measures.region_name as county_name,
    measures.prefecture_code,
    measures.province_code,
    measures.schools,
    measures.classrooms,
    measures.multimedia_classrooms,
    measures.coverage_ratio,
    measures.schools_fully_covered,
    measures.fully_covered_share,
    measures.multimedia_rooms_per_100
from {{ ref('int_region_measures_aggregated') }} as measures
where measures.region_level = 'county'
  and {{ in_build_scope('measures.region_code', 'measures.school_year') }}
