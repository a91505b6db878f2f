{#- One row per simulated year: the per-year metrics every reader (summary, report, export, batch) shows. -#}

with requirements as (
    select * from {{ ref('int_workforce_requirements') }}
    where simulation_year = {{ sim_year() }}
),

events as (
    select * from {{ ref('fct_yearly_events') }}
    where simulation_year = {{ sim_year() }}
),

snapshot as (
    select * from {{ ref('fct_workforce_snapshot') }}
    where simulation_year = {{ sim_year() }}
),

plan_summary as (
    -- No row when the plan is disabled: the money columns are then null.
    select * from {{ ref('fct_dc_plan_summary') }}
    where simulation_year = {{ sim_year() }}
),

event_counts as (
    select
        -- Retirements are experienced terminations (domain 4.2); their own column tells them apart.
        count(*) filter (where event_type = 'termination'
                         and event_category in ('experienced_termination', 'retirement')) as experienced_terminations,
        count(*) filter (where event_type = 'termination' and event_category = 'retirement') as retirements,
        count(*) filter (where event_type = 'hire') as hires,
        count(*) filter (where event_type = 'termination' and event_category = 'new_hire_termination')
            as new_hire_terminations,
        count(*) filter (where event_type = 'promotion') as promotions,
        count(*) filter (where event_type = 'raise') as raises,
        count(*) filter (where event_type = 'eligibility') as eligibility_events,
        count(*) filter (where event_type = 'enrollment') as enrollments,
        count(*) filter (where event_type = 'opt_out') as opt_outs,
        count(*) filter (where event_type = 'deferral_match_response') as match_responses,
        count(*) filter (where event_type = 'deferral_escalation') as escalations
    from events
),

snapshot_counts as (
    select
        count(*) filter (where employment_status = 'active') as end_headcount,
        count(*) filter (where detailed_status_code = 'continuous_active') as continuing_actives,
        count(*) filter (where detailed_status_code = 'new_hire_active') as new_hire_actives,
        count(*) filter (where employment_status = 'active' and is_enrolled) as enrolled_actives,
        sum(prorated_annual_compensation) as payroll,
        avg(deferral_rate) filter (where employment_status = 'active' and is_enrolled) as average_deferral_rate
    from snapshot
),

final as (
    select
        requirements.simulation_year,
        requirements.start_headcount,
        event_counts.experienced_terminations,
        event_counts.retirements,
        event_counts.hires,
        event_counts.new_hire_terminations,
        event_counts.experienced_terminations + event_counts.new_hire_terminations as terminations,
        snapshot_counts.end_headcount,
        requirements.target_end_headcount,
        snapshot_counts.continuing_actives,
        snapshot_counts.new_hire_actives,
        -- Fractions, as every mart stores them (docs/outputs.md): a reader shows a percentage.
        round((snapshot_counts.end_headcount - requirements.start_headcount)
            / nullif(requirements.start_headcount, 0), 4) as growth_rate,
        requirements.target_growth_rate,
        event_counts.promotions,
        event_counts.raises,
        event_counts.eligibility_events,
        event_counts.enrollments,
        event_counts.opt_outs,
        event_counts.match_responses,
        event_counts.escalations,
        snapshot_counts.enrolled_actives,
        round(snapshot_counts.enrolled_actives / nullif(snapshot_counts.end_headcount, 0), 4)
            as enrolled_share_of_actives,
        cast(snapshot_counts.payroll as decimal(18, 2)) as payroll,
        round(cast(snapshot_counts.average_deferral_rate as double), 6) as average_deferral_rate,
        -- The plan's figures under the plan summary's own names (one name per metric).
        plan_summary.total_employee_deferrals,
        plan_summary.total_match,
        plan_summary.total_core,
        plan_summary.total_employer_gross,
        plan_summary.forfeitures_applied,
        plan_summary.net_employer_cost,
        plan_summary.employer_cost_pct_payroll,
        plan_summary.participation_rate,
        plan_summary.at_402g_limit_share
    from requirements
    cross join event_counts
    cross join snapshot_counts
    left join plan_summary on true
)

select * from final
