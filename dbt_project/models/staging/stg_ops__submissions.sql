-- Received files and their decisions, typed. Every status is kept: the current submission
-- per county-year and the submission status mart are derived downstream.
with source as (
    select * from {{ source('ops', 'submissions') }}
)

select
    submission_id,
    county_code,
    school_year,
    file_name,
    checksum,
    received_at,
    status,
    coalesce(errors, 0) as errors,
    coalesce(warnings, 0) as warnings,
    rejection_reason,
    replaced_submission_id,
    duplicate_of,
    run_id,
    decided_run_id,
    held_reason,
    held_run_id,
    left(county_code, 2) as province_prefix
from source
