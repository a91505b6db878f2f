{#- Retirements (domain 4.2): start actives retire with the probability of their age; own streams for decision and date. -#}

with workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

retirement_rates as (
    select * from {{ ref('stg_retirement_rates') }}
),

candidates as (
    -- Age on Dec 31 of Y-1, as measured by the start population; ages outside the table never retire.
    select
        workforce_start.employee_id,
        workforce_start.level_id,
        workforce_start.current_age,
        least(retirement_rates.retirement_rate * {{ var('retirement_rate_multiplier') }}, 1) as retirement_probability
    from workforce_start
    inner join retirement_rates
        on workforce_start.current_age >= retirement_rates.min_age
       and workforce_start.current_age < retirement_rates.max_age
    where {{ sql_literal(var('retirement_enabled')) }}
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        level_id,
        current_age,
        retirement_probability,
        cast({{ year_start() }} + to_days(cast(floor(
            {{ uniform_draw('employee_id', sim_year(), 'retirement_date') }} * {{ days_in_year() }}
        ) as integer)) as date) as termination_date
    from candidates
    where {{ uniform_draw('employee_id', sim_year(), 'retirement') }} < retirement_probability
)

select * from final
