-- 校校通 and bandwidth per county and year (every school, 教学点 included).
select
    measures.school_year,
    measures.region_code as county_code,
    measures.region_name as county_name,
    measures.prefecture_code,
    measures.province_code,
    measures.schools,
    measures.schools_connected,
    measures.connected_share,
    measures.schools_100mbps_plus,
    measures.share_100mbps_plus,
    measures.schools_10mbps_plus,
    measures.share_10mbps_plus,
    measures.median_bandwidth_mbps,
    measures.students,
    measures.kbps_per_student
from {{ ref('int_region_measures_aggregated') }} as measures
where measures.region_level = 'county'
  and {{ in_build_scope('measures.region_code', 'measures.school_year') }}
