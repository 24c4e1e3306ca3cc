-- Where every expected county stands for every school year it owes or sent a file for:
-- accepted (the marts serve an accepted file), held (validation accepted the newest file but
-- its county-year broke the marts build; the previous accepted file keeps serving), rejected
-- (only rejected files so far) or missing (nothing received). The years a county owes follow
-- var('first_year') / EDUSTAT_FIRST_YEAR, else the years its province has submitted. Files
-- that could not be read have no school year and cannot be placed in a year: they appear in
-- ops.submissions only. Times are the files' received_at. The status rule is the warehouse's
-- one definition, ops.county_year_status (read by `edustat status` and the notices too).
-- depends_on: {{ ref('stg_ops__submissions') }}
-- A table rebuilt whole: the years owed change with the jurisdiction and first_year vars.
{{ config(materialized='table') }}
with status as (
    select * from {{ county_year_status() }}
),

counties as (
    select * from {{ ref('int_counties_expected') }}
)

select
    status.county_code,
    status.school_year,
    counties.county_name,
    counties.prefecture_code,
    counties.province_code,
    status.status,
    status.accepted_submission_id,
    status.accepted_at,
    status.accepted_file_name,
    status.warnings,
    status.replaced_submission_id,
    status.last_rejected_submission_id,
    status.last_rejected_at,
    status.last_rejection_reason,
    status.held_submission_id as last_held_submission_id,
    status.held_at as last_held_at,
    status.files_received,
    status.files_rejected
from status
inner join counties
    on counties.county_code = status.county_code
