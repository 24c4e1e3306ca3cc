-- The county-level units expected to submit, with their names and regions: those of the
-- provinces in var('jurisdiction') (or EDUSTAT_JURISDICTION), all of them for 'national', else
-- those of the provinces any submission came from (docs/interface.md#ops-functions). The rule
-- lives once, in the warehouse (ops.expected_county_years behind ops.county_year_status); see
-- macros/jurisdiction.sql.
-- depends_on: {{ ref('stg_ops__submissions') }}
-- A table rebuilt whole: the jurisdiction, not the night's county-years, decides its rows.
{{ config(materialized='table') }}
select distinct
    county_code,
    county_name,
    prefecture_code,
    province_code
from {{ county_year_status() }}
where in_jurisdiction
