-- Where every expected county stands for every school year anyone has submitted:
-- held (its newest file passed validation but broke the marts build: held back, an older
-- accepted file keeps serving if there is one), accepted (the marts serve an accepted file),
-- rejected (only rejected files so far) or missing (nothing received). Files that could not be read have no school year and cannot be
-- placed in a year: they appear in ops.submissions only. Times are the files' received_at.
with counties as (
    select * from {{ ref('int_counties_expected') }}
),

submissions as (
    select * from {{ ref('stg_ops__submissions') }}
),

years as (
    select distinct school_year
    from submissions
    where school_year is not null
),

current_submissions as (
    select * from {{ ref('int_submissions_current') }}
),

last_rejected as (
    select distinct on (county_code, school_year)
        county_code,
        school_year,
        submission_id,
        received_at,
        rejection_reason
    from submissions
    where status = 'rejected' and school_year is not null
    order by county_code, school_year, received_at desc, submission_id desc
),

last_held as (
    select distinct on (county_code, school_year)
        county_code,
        school_year,
        submission_id,
        received_at
    from submissions
    where status = 'held' and school_year is not null
    order by county_code, school_year, received_at desc, submission_id desc
),

received as (
    select
        county_code,
        school_year,
        count(*) filter (where status <> 'duplicate') as files_received,
        count(*) filter (where status = 'rejected') as files_rejected
    from submissions
    where school_year is not null
    group by county_code, school_year
)

select
    counties.county_code,
    years.school_year,
    counties.county_name,
    counties.prefecture_code,
    counties.province_code,
    case
        -- A held file newer than the served one is what the county is waiting on.
        when last_held.submission_id is not null
             and (current_submissions.submission_id is null
                  or (last_held.received_at, last_held.submission_id)
                     > (current_submissions.received_at, current_submissions.submission_id))
            then 'held'
        when current_submissions.submission_id is not null then 'accepted'
        when last_rejected.submission_id is not null then 'rejected'
        else 'missing'
    end as status,
    current_submissions.submission_id as accepted_submission_id,
    current_submissions.received_at as accepted_at,
    current_submissions.file_name as accepted_file_name,
    current_submissions.warnings,
    current_submissions.replaced_submission_id,
    last_rejected.submission_id as last_rejected_submission_id,
    last_rejected.received_at as last_rejected_at,
    last_rejected.rejection_reason as last_rejection_reason,
    last_held.submission_id as last_held_submission_id,
    last_held.received_at as last_held_at,
    coalesce(received.files_received, 0) as files_received,
    coalesce(received.files_rejected, 0) as files_rejected
from counties
cross join years
left join current_submissions
    on current_submissions.county_code = counties.county_code
   and current_submissions.school_year = years.school_year
left join last_rejected
    on last_rejected.county_code = counties.county_code
   and last_rejected.school_year = years.school_year
left join last_held
    on last_held.county_code = counties.county_code
   and last_held.school_year = years.school_year
left join received
    on received.county_code = counties.county_code
   and received.school_year = years.school_year
