{#- Nondiscrimination thresholds of every year from the first published one to end_year (docs/ndt.md,
    Thresholds): published rows as given, later years projected from the last published value with the IRS
    limits' rule (cpi growth, floored to the $5,000 step, never below the year before). -#}
{%- set cpi = "cast(" ~ var('plan_cpi_growth') ~ " as decimal(18, 10))" -%}

with published as (
    select * from {{ ref('stg_ndt_thresholds') }}
),

last_published as (
    select * from published
    order by limit_year desc
    limit 1
),

years as (
    select cast(range as integer) as limit_year
    from range((select max(limit_year) from published) + 1, {{ sim_end_year() }} + 1)
),

raw_projection as (
    -- The growth factor is a DOUBLE floored to the step at once, as int_irs_limits_by_year does.
    select
        years.limit_year,
        5000 * floor(p.hce_414q * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 5000) as hce_414q,
        5000 * floor(p.key_officer_416i * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 5000)
            as key_officer_416i
    from years
    cross join last_published as p
),

projected as (
    select
        raw.limit_year,
        cast(greatest(p.hce_414q, max(raw.hce_414q) over (order by raw.limit_year)) as bigint) as hce_414q,
        cast(greatest(p.key_officer_416i, max(raw.key_officer_416i) over (order by raw.limit_year)) as bigint)
            as key_officer_416i,
        'projected' as status,
        'projected from ' || p.limit_year || ' (cpi {{ var("plan_cpi_growth") }})' as source
    from raw_projection as raw
    cross join last_published as p
),

final as (
    select limit_year, hce_414q, key_officer_416i, 'published' as status, source from published
    union all
    select limit_year, hce_414q, key_officer_416i, status, source from projected
)

select * from final
