-- Is the county ready for the 优质均衡 (2017) assessment, and if not, what stands in the way.
-- Counts cover the schools in balance scope (小学教学点 left out by default, policy seed).
-- ready: at least one section in scope; every 2017 CV within its limit for each section the
-- county has in scope (an undefined CV does not pass); every in-scope section compliant; no
-- class above 45/50 and no 大班额; no school above its size limit; music/art rooms suffice;
-- retention ≥ 95 % or unknown. gaps: Chinese, items separated by "；", NULL if none. ready and
-- gaps read one list of conditions (blocking_gaps): ready is true exactly when that list is
-- empty; gaps adds only the note that retention cannot be computed, which does not block.
-- The nine-year 巩固率 is reported beside the three-year one with its own target; neither
-- the 2017 method's readiness nor gaps read it.
{{ config(meta={'build_scope': {'level': 'retention'}}) }}
-- Incremental: a night redoes the county-years it changed and those whose figures follow a
-- changed earlier year (Y-1, Y-3, Y-9: macros/build_scope.sql).
with counties as {{ scoped_ref('int_submissions_current', level='retention') }},

compliance as {{ scope_materialized() }} (
    select
        sections.school_year,
        sections.county_code,
        count(*) filter (where sections.in_balance_scope) as school_sections,
        count(*) filter (where sections.in_balance_scope and assessed.compliant)
            as compliant_sections
    from {{ ref('int_school_sections_split') }} as sections
    inner join {{ ref('int_section_compliance_assessed') }} as assessed
        on assessed.section_id = sections.section_id
    where {{ in_build_scope('sections.county_code', 'sections.school_year', level='retention') }}
    group by sections.school_year, sections.county_code
),

cv_2017 as {{ scope_materialized() }} (
    select cv.*, indicators.name_zh, indicators.sort_order
    from {{ ref('int_county_indicator_cv_assessed') }} as cv
    left join {{ ref('indicators') }} as indicators on indicators.indicator = cv.indicator
    where cv.method = '2017' and cv.schools > 0
      and {{ in_build_scope('cv.county_code', 'cv.school_year', level='retention') }}
),

cv_verdicts as (
    select
        school_year,
        county_code,
        bool_and(coalesce(cv_ok, false)) filter (where section = 'primary') as cv_ok_primary,
        bool_and(coalesce(cv_ok, false)) filter (where section = 'junior') as cv_ok_junior,
        max(cv_limit) filter (where section = 'primary') as cv_limit_primary,
        max(cv_limit) filter (where section = 'junior') as cv_limit_junior,
        string_agg(
            name_zh || ' ' || coalesce(trim_scale(round(cv, 3))::text, '无法计算'),
            '、' order by sort_order
        ) filter (where section = 'primary' and cv_ok is not true) as primary_cv_failures,
        string_agg(
            name_zh || ' ' || coalesce(trim_scale(round(cv, 3))::text, '无法计算'),
            '、' order by sort_order
        ) filter (where section = 'junior' and cv_ok is not true) as junior_cv_failures
    from cv_2017
    group by school_year, county_code
),

school_checks as {{ scope_materialized() }} (
    select
        school_year,
        county_code,
        count(*) filter (where has_oversize_class) as oversize_class_schools,
        coalesce(sum(large_classes), 0) as large_classes,
        coalesce(sum(compulsory_classes), 0) as classes,
        count(*) filter (where is_oversize) as oversize_schools,
        count(*) filter (where has_music_art_room_shortfall) as music_art_room_shortfall_schools
    from {{ ref('int_school_checks_evaluated') }}
    where in_balance_scope and {{ in_build_scope(level='retention') }}
    group by school_year, county_code
),

retention as {{ scoped_ref('int_county_retention_computed', level='retention') }},

joined as (
    select
        {{ county_identity_columns() }},
        coalesce(compliance.school_sections, 0) as school_sections,
        coalesce(compliance.compliant_sections, 0) as compliant_sections,
        {{ ratio('compliance.compliant_sections', 'compliance.school_sections') }}
            as compliant_share,
        cv_verdicts.cv_ok_primary,
        cv_verdicts.cv_ok_junior,
        cv_verdicts.cv_limit_primary,
        cv_verdicts.cv_limit_junior,
        cv_verdicts.primary_cv_failures,
        cv_verdicts.junior_cv_failures,
        coalesce(school_checks.oversize_class_schools, 0) as oversize_class_schools,
        coalesce(school_checks.large_classes, 0) as large_classes,
        {{ ratio('school_checks.large_classes', 'school_checks.classes') }} as large_class_share,
        coalesce(school_checks.oversize_schools, 0) as oversize_schools,
        coalesce(school_checks.music_art_room_shortfall_schools, 0)
            as music_art_room_shortfall_schools,
        retention.base_year,
        retention.base_year_available,
        retention.junior_retention_rate,
        retention.junior_retention_rate >= {{ policy_number('junior_retention_target') }}
            as retention_ok,
        retention.compulsory_retention_rate,
        retention.compulsory_retention_rate
            >= {{ policy_number('compulsory_retention_target') }} as compulsory_retention_ok
    from counties
    -- Each part has at most one row per county-year; a county-year without one gets NULLs.
    {%- for part in ['compliance', 'cv_verdicts', 'school_checks', 'retention'] %}
    {{ county_year_join(part) }}
    {%- endfor %}
),

gap_lists as (
    select
        joined.*,
        array_remove(array[
            case when school_sections = 0
                then '没有纳入优质均衡评估范围的学校学段' end,
            case when compliant_sections < school_sections
                then format(
                    '%s个学校学段资源配置未达标（须至少%s项指标达到标准、其余指标不低于标准的%s%%），达标%s/%s',
                    school_sections - compliant_sections,
                    trim_scale({{ policy_number('compliance_min_indicators_met') }}),
                    trim_scale(100 * {{ policy_number('compliance_floor_ratio') }}),
                    compliant_sections, school_sections) end,
            case when cv_ok_primary is false
                then format('小学校际差异系数未达标（限值%s）：%s', trim_scale(cv_limit_primary), primary_cv_failures) end,
            case when cv_ok_junior is false
                then format('初中校际差异系数未达标（限值%s）：%s', trim_scale(cv_limit_junior), junior_cv_failures) end,
            case when oversize_class_schools > 0
                then format('%s所学校班额超标（小学超过%s人或初中超过%s人）',
                    oversize_class_schools,
                    trim_scale({{ policy_number('primary_max_class_size') }}),
                    trim_scale({{ policy_number('junior_max_class_size') }})) end,
            case when large_classes > 0
                then format('大班额（%s人及以上）%s个',
                    trim_scale({{ policy_number('large_class_size') }}), large_classes) end,
            case when oversize_schools > 0
                then format('%s所学校规模超标（小学或初中超过%s人，九年一贯制、十二年一贯制义务教育段超过%s人）',
                    oversize_schools,
                    trim_scale({{ policy_number('single_section_school_max_students') }}),
                    trim_scale({{ policy_number('combined_school_max_students') }})) end,
            case when music_art_room_shortfall_schools > 0
                then format('%s所学校音乐或美术专用教室不足（每%s个班应各有1间）',
                    music_art_room_shortfall_schools,
                    trim_scale({{ policy_number('classes_per_special_room') }})) end,
            case when retention_ok is false
                then format('初中三年巩固率%s%%，低于目标%s%%',
                    trim_scale(round(100 * junior_retention_rate, 2)),
                    trim_scale(100 * {{ policy_number('junior_retention_target') }})) end
        ], null) as blocking_gaps,
        array_remove(array[
            case when junior_retention_rate is null and not base_year_available
                then format('初中三年巩固率无法计算：缺少%s年的数据', base_year)
                 when junior_retention_rate is null
                then format('初中三年巩固率无法计算：%s年初中一年级招生数为0', base_year) end
        ], null) as notes
    from joined
)

select
    school_year,
    county_code,
    county_name,
    prefecture_code,
    province_code,
    school_sections,
    compliant_sections,
    compliant_share,
    cv_ok_primary,
    cv_ok_junior,
    oversize_class_schools,
    large_classes,
    large_class_share,
    oversize_schools,
    music_art_room_shortfall_schools,
    junior_retention_rate,
    retention_ok,
    compulsory_retention_rate,
    compulsory_retention_ok,
    cardinality(blocking_gaps) = 0 as ready,
    nullif(array_to_string(blocking_gaps || notes, '；'), '') as gaps
from gap_lists
