-- The county-level units expected to submit: those of the provinces in var('jurisdiction')
-- (or EDUSTAT_JURISDICTION), all of them for 'national', else those of the provinces any
-- submission came from (interface.md). Names and codes from the divisions seed.
-- depends_on: {{ ref('stg_ops__submissions') }}
{%- set provinces = jurisdiction_provinces() %}
with divisions as (
    select * from {{ ref('divisions') }}
),

provinces as (
{%- if provinces == 'national' %}
    select distinct province_code from divisions
{%- elif provinces %}
    select province_code
    from (values {% for p in provinces %}('{{ p }}0000'){% if not loop.last %}, {% endif %}{% endfor %})
        as listed (province_code)
{%- else %}
    select distinct left(county_code, 2) || '0000' as province_code
    from {{ ref('stg_ops__submissions') }}
{%- endif %}
)

select
    divisions.division_code as county_code,
    divisions.division_name as county_name,
    left(divisions.division_code, 4) || '00' as prefecture_code,
    divisions.province_code
from divisions
inner join provinces
    on provinces.province_code = divisions.province_code
where divisions.is_county_unit
