-- 校校通 and bandwidth per county and year (every school, 教学点 included).
{{ county_measures(['schools'] + broadband_measures() + ['students', 'kbps_per_student']) }}
