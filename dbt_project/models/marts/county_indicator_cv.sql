-- 差异系数 per county, year, section, method and indicator, with limits and the verdict.
with cv as {{ scoped_ref('int_county_indicator_cv_assessed') }},

counties as (
    select * from {{ ref('int_submissions_current') }}
),

indicators as (
    select * from {{ ref('indicators') }}
)

select
    cv.school_year,
    cv.county_code,
    counties.county_name,
    counties.prefecture_code,
    counties.province_code,
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
inner join counties
    on counties.school_year = cv.school_year
   and counties.county_code = cv.county_code
left join indicators
    on indicators.indicator = cv.indicator
