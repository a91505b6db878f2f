{#- IRS limits for every year from the first published one to end_year (dc_plan 1): published rows as given,
    later years projected from the last published value, never from a projected one. -#}
{%- set cpi = "cast(" ~ var('plan_cpi_growth') ~ " as decimal(18, 10))" -%}
{%- set wages = "cast(" ~ var('plan_wage_growth') ~ " as decimal(18, 10))" -%}

with published as (
    select * from {{ ref('stg_irs_limits') }}
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

-- SECURE 2.0: the ages 60-63 amount is the greater of $10,000 indexed from 2025 and 150 % of the 2024 age-50 amount.
super_catch_up_floor as (
    select cast(3 * catch_up_50 / 2 as bigint) as floor_amount
    from published
    where limit_year = 2024
),

-- The growth factor (1+g)^k is a DOUBLE; every result is floored (or rounded) to its whole-dollar step at once.
raw_projection as (
    select
        years.limit_year,
        years.limit_year - p.limit_year as k,
        500 * floor(p.elective_deferral_402g * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 500) as elective_deferral_402g,
        500 * floor(p.catch_up_50 * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 500) as catch_up_50,
        greatest(
            (select floor_amount from super_catch_up_floor),
            500 * floor(10000 * pow(1 + {{ cpi }}, years.limit_year - 2025) / 500)
        ) as catch_up_60_63,
        5000 * floor(p.compensation_401a17 * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 5000) as compensation_401a17,
        1000 * floor(p.annual_additions_415c * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 1000) as annual_additions_415c,
        5000 * floor(p.hce_414q * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 5000) as hce_414q,
        5000 * floor(p.roth_catch_up_wage_threshold * pow(1 + {{ cpi }}, years.limit_year - p.limit_year) / 5000)
            as roth_catch_up_wage_threshold,
        300 * floor(p.ss_wage_base * pow(1 + {{ wages }}, years.limit_year - p.limit_year) / 300 + 0.5) as ss_wage_base
    from years
    cross join last_published as p
),

projected as (
    -- Never below the year before: the running maximum, starting from the last published value.
    select
        raw.limit_year,
        {%- for column in ['elective_deferral_402g', 'catch_up_50', 'catch_up_60_63', 'compensation_401a17',
                           'annual_additions_415c', 'hce_414q', 'roth_catch_up_wage_threshold', 'ss_wage_base'] %}
        cast(greatest(p.{{ column }}, max(raw.{{ column }}) over (order by raw.limit_year)) as bigint) as {{ column }},
        {%- endfor %}
        'projected' as status,
        'projected from ' || p.limit_year || ' (cpi {{ var("plan_cpi_growth") }}, wages {{ var("plan_wage_growth") }})'
            as source
    from raw_projection as raw
    cross join last_published as p
),

final as (
    select
        limit_year, elective_deferral_402g, catch_up_50, catch_up_60_63, compensation_401a17, annual_additions_415c,
        hce_414q, roth_catch_up_wage_threshold, ss_wage_base, 'published' as status, source
    from published
    union all
    select
        limit_year, elective_deferral_402g, catch_up_50, catch_up_60_63, compensation_401a17, annual_additions_415c,
        hce_414q, roth_catch_up_wage_threshold, ss_wage_base, status, source
    from projected
)

select * from final
