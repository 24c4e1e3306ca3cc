-- 班班通: multimedia classroom coverage per county and year (every school, 教学点 included).
{{ county_measures(['schools'] + coverage_measures()) }}
