-- 差异系数 per county, year, section, method and indicator, with limits and the verdict.
with cv as {{ scoped_ref('int_county_indicator_cv_assessed') }},

indicators as (
    select * from {{ ref('indicators') }}
)

select
    {{ county_identity_columns('cv') }},
    cv.section,
    cv.method,
    cv.indicator,
    indicators.name_zh as indicator_name_zh,
    indicators.name_en as indicator_name_en,
    cv.schools,
    cv.students,
    cv.county_value,
    cv.std_dev,
    cv.cv,
    cv.cv_limit,
    cv.cv_ok,
    cv.schools_below_threshold
from cv
{{ county_identity_join('cv') }}
left join indicators
    on indicators.indicator = cv.indicator
