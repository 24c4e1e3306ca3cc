-- 差异系数 per county, year, section and indicator over the sections in balance scope
-- (小学教学点 excluded by default), by the one weighted_cv macro. Groups with no section in
-- scope have no row here; int_county_indicator_cv_assessed adds them with NULLs.
{{ weighted_cv(
    relation=ref('int_section_indicators_computed'),
    group_by=['school_year', 'county_code', 'section', 'indicator'],
    students='students',
    amount='amount',
    per_students='per_students',
    where='in_balance_scope and ' ~ in_build_scope()
) }}
