{#- Merit + COLA decisions: tenure >= 1, employed on the raise date; month from the distribution. -#}

with workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

terminations as (
    select * from {{ ref('int_experienced_terminations') }}
),

promotions as (
    select * from {{ ref('int_promotions') }}
),

job_levels as (
    select * from {{ ref('stg_job_levels') }}
),

cola as (
    select coalesce(
        {{ sql_literal(for_year(var('cola_rate'))) }},
        (select cola_rate from {{ ref('stg_cola_by_year') }} where simulation_year = {{ sim_year() }}),
        0
    ) as cola_rate
),

months as (
    select
        month,
        sum(share) over (order by month) - share as cumulative_from,
        sum(share) over (order by month) as cumulative_to
    from {{ ref('stg_raise_month_distribution') }}
),

drawn as (
    select
        workforce_start.employee_id,
        coalesce(promotions.to_level, workforce_start.level_id) as level_id,
        terminations.termination_date,
        {{ uniform_draw('workforce_start.employee_id', sim_year(), 'raise_month') }} as month_draw,
        {{ uniform_draw('workforce_start.employee_id', sim_year(), 'raise_day') }} as day_draw
    from workforce_start
    left join promotions using (employee_id)
    left join terminations using (employee_id)
    where workforce_start.current_tenure >= 1
),

dated as (
    select
        drawn.*,
        -- The last month also takes draws at or above the (rounded) cumulative total.
        coalesce(months.month, 12) as raise_month
    from drawn
    left join months
        on drawn.month_draw >= months.cumulative_from and drawn.month_draw < months.cumulative_to
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        dated.employee_id,
        cast(make_date({{ sim_year() }}, dated.raise_month, 1) + to_days(cast(floor(
            dated.day_draw * day(last_day(make_date({{ sim_year() }}, dated.raise_month, 1)))
        ) as integer)) as date) as raise_date,
        dated.level_id,
        cast(coalesce({{ sql_literal(var('merit_budget')) }}, job_levels.merit_rate) + cola.cola_rate as decimal(9, 6))
            as raise_rate,
        dated.termination_date
    from dated
    inner join job_levels using (level_id)
    cross join cola
)

select simulation_year, employee_id, raise_date, level_id, raise_rate
from final
-- Still employed on the raise date; a zero rate (merit_budget 0 and no COLA) is no raise.
where (termination_date is null or termination_date >= raise_date)
  and raise_rate > 0
