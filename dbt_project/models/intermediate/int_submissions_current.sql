-- The file the marts serve for each (county, school year): its accepted submission with the
-- latest (received_at, submission_id). Older accepted files stay in raw/ops as history; the
-- platform records which one a resubmission replaced (replaced_submission_id).
-- A table rebuilt whole: one row per county-year, every incremental model's starting point.
{{ config(materialized='table') }}
with accepted as (
    select
        submissions.*,
        row_number() over (
            partition by county_code, school_year
            order by received_at desc, submission_id desc
        ) as recency
    from {{ ref('stg_ops__submissions') }} as submissions
    where status = 'accepted'
      and school_year is not null
)

select
    accepted.submission_id,
    accepted.county_code,
    accepted.school_year,
    accepted.file_name,
    accepted.received_at,
    accepted.warnings,
    accepted.replaced_submission_id,
    divisions.division_name as county_name,
    -- docs/interface.md#marts: prefecture = first 4 digits + 00, province = first 2 digits + 0000.
    left(accepted.county_code, 4) || '00' as prefecture_code,
    left(accepted.county_code, 2) || '0000' as province_code
from accepted
left join {{ ref('divisions') }} as divisions
    on divisions.division_code = accepted.county_code
where accepted.recency = 1
