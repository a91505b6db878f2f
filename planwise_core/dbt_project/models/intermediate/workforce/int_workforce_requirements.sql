{{ config(materialized='year_partition') }}
{#- Exact yearly quotas (domain 4.1-4.2): the year ends at round_half_up(N * (1 + g)) actives; retirements count toward Q_exp. -#}

with start_headcount as (
    select {{ sim_year() }} as simulation_year, count(*) as start_headcount
    from {{ ref('int_workforce_start') }}
),

retirements as (
    select count(*) as retirements
    from {{ ref('int_retirements') }}
),

rates as (
    select
        start_headcount.*,
        retirements.retirements,
        cast({{ for_year(var('target_growth_rate')) }} as decimal(18, 8)) as target_growth_rate,
        cast({{ for_year(var('total_termination_rate')) }} as decimal(18, 8)) as total_termination_rate,
        cast({{ for_year(var('new_hire_termination_rate')) }} as decimal(18, 8)) as new_hire_termination_rate
    from start_headcount
    cross join retirements
),

quotas as (
    select
        *,
        {{ round_half_up('start_headcount * (1 + target_growth_rate)') }} as target_end_headcount,
        {{ round_half_up('start_headcount * total_termination_rate') }} as experienced_terminations
    from rates
),

net_need as (
    -- More retirements than the quota replace it: the year loses greatest(Q_exp, R) experienced employees.
    select
        *,
        target_end_headcount - (start_headcount - greatest(experienced_terminations, retirements)) as net_hires_needed
    from quotas
),

hires as (
    -- H - round_half_up(H*h) grows by 0 or 1 per step, so the smallest H lies near D / (1 - h).
    select
        net_need.*,
        case when net_hires_needed <= 0 then 0 else (
            select min(candidate)
            from generate_series(
                greatest(net_hires_needed, cast(floor(net_hires_needed / (1 - new_hire_termination_rate)) as bigint) - 2),
                cast(ceil(net_hires_needed / (1 - new_hire_termination_rate)) as bigint) + 2
            ) as candidates (candidate)
            where candidate - {{ round_half_up('candidate * new_hire_termination_rate') }} >= net_hires_needed
        ) end as total_hires
    from net_need
),

final as (
    select
        simulation_year,
        start_headcount,
        target_growth_rate,
        total_termination_rate,
        new_hire_termination_rate,
        target_end_headcount,
        experienced_terminations,
        retirements,
        greatest(-net_hires_needed, 0) as additional_terminations,
        greatest(experienced_terminations, retirements) + greatest(-net_hires_needed, 0)
            as total_experienced_terminations,
        greatest(experienced_terminations, retirements) + greatest(-net_hires_needed, 0) - retirements
            as hazard_terminations,
        total_hires,
        total_hires - greatest(net_hires_needed, 0) as new_hire_terminations
    from hires
)

select * from final
