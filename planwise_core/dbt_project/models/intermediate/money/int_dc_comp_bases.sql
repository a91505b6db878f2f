{#- R3 day-exact pay segments: each day of employment in Y lies in one segment with a constant salary rate, deferral
    rate and membership of the match and core periods; built from the event timeline (dc_plan 2.3, 2.4). -#}
{%- set year = var('simulation_year') -%}
{%- set max_bp = to_bp(var('plan_max_deferral_rate')) -%}
{%- set match_waiting = var('plan_match_waiting_period_days') -%}
{%- set match_age = var('plan_match_minimum_age') -%}
{%- set core_waiting = var('plan_core_waiting_period_days') -%}
{%- set core_age = var('plan_core_minimum_age') -%}

with snapshot as (
    select * from {{ ref('fct_workforce_snapshot') }}
    where simulation_year = {{ year }} and {{ sql_literal(var('plan_enabled')) }}
),

events as (
    select * from {{ ref('fct_yearly_events') }}
    where simulation_year = {{ year }}
),

workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

hires as (
    select employee_id, compensation_amount from events where event_type = 'hire'
),

refunds as (
    -- EACA: an opt-out within the grace period after an auto-enrollment refunds the window's deferrals of Y.
    select events.employee_id, events.effective_date as opt_out_date
    from events
    inner join snapshot using (employee_id)
    where {{ sql_literal(var('plan_eaca_refund_on_opt_out')) }}
      and events.event_type = 'opt_out' and events.event_category = 'auto_opt_out'
      and date_diff('day', snapshot.enrollment_date, events.effective_date) <= {{ var('opt_out_grace_period_days') }}
),

bounds as (
    select
        snapshot.employee_id,
        greatest(snapshot.employee_hire_date, {{ year_start() }}) as first_day,
        least(coalesce(snapshot.termination_date, {{ year_end() }}), {{ year_end() }}) as last_day,
        {{ cents('coalesce(workforce_start.current_compensation, hires.compensation_amount)') }} as opening_salary_cents,
        {{ to_bp('coalesce(workforce_start.deferral_rate, 0)') }} as opening_rate_bp,
        {{ entry_date("greatest(snapshot.eligibility_date"
            ~ (", cast(snapshot.employee_hire_date + to_days(" ~ match_waiting ~ ") as date)" if match_waiting is not none else "")
            ~ (", cast(snapshot.employee_birth_date + to_years(" ~ match_age ~ ") as date)" if match_age is not none else "")
            ~ ")", var('plan_match_entry')) }} as match_entry_date,
        {{ entry_date("greatest(snapshot.employee_hire_date"
            ~ (", cast(snapshot.employee_hire_date + to_days(" ~ core_waiting ~ ") as date)" if core_waiting is not none else "")
            ~ (", cast(snapshot.employee_birth_date + to_years(" ~ core_age ~ ") as date)" if core_age is not none else "")
            ~ ")", var('plan_core_entry')) }} as core_entry_date,
        case when refunds.opt_out_date is not null then greatest(snapshot.enrollment_date, {{ year_start() }}) end
            as refund_from,
        refunds.opt_out_date as refund_to
    from snapshot
    left join workforce_start using (employee_id)
    left join hires using (employee_id)
    left join refunds using (employee_id)
),

changes as (
    -- The opening state, then every change of salary or deferral rate in event order, then the days that only
    -- start a period (match entry, core entry, refund window): they split a segment without changing it.
    select employee_id, first_day as change_date, -1 as sequence, opening_salary_cents as salary_cents,
           opening_rate_bp as rate_bp
    from bounds
    union all
    select employee_id, effective_date, event_sequence, {{ cents('compensation_amount') }}, null
    from events
    where event_type in ('promotion', 'raise')
    union all
    select employee_id, effective_date, event_sequence, null, {{ to_bp('deferral_rate') }}
    from events
    where event_type in ('enrollment', 'deferral_escalation', 'opt_out')
    union all
    select employee_id, split_date, 0, null, null
    from (
        select employee_id, first_day, last_day, match_entry_date as split_date from bounds
        union all
        select employee_id, first_day, last_day, core_entry_date from bounds
        union all
        select employee_id, first_day, last_day, refund_from from bounds
    ) as splits
    where split_date > first_day and split_date <= last_day
),

filled as (
    select
        employee_id,
        change_date,
        last_value(salary_cents ignore nulls) over running as salary_cents,
        last_value(rate_bp ignore nulls) over running as rate_bp,
        row_number() over (partition by employee_id, change_date order by sequence desc) as rank_in_day
    from changes
    window running as (partition by employee_id order by change_date, sequence
                       rows between unbounded preceding and current row)
),

segments as (
    select
        filled.employee_id,
        filled.change_date as segment_from,
        coalesce(cast(lead(filled.change_date) over (partition by filled.employee_id order by filled.change_date) - 1 as date),
                 bounds.last_day) as segment_to,
        filled.salary_cents,
        least(filled.rate_bp, {{ max_bp }}) as rate_bp,
        bounds.match_entry_date,
        bounds.core_entry_date,
        bounds.refund_from,
        bounds.refund_to
    from filled
    inner join bounds using (employee_id)
    where filled.rank_in_day = 1
),

final as (
    select
        {{ year }} as simulation_year,
        employee_id,
        segment_from,
        segment_to,
        date_diff('day', segment_from, segment_to) + 1 as days,
        salary_cents,
        rate_bp,
        -- r(t) of dc_plan: 0 inside a refunded EACA window.
        case when refund_to is not null and segment_from >= refund_from and segment_from < refund_to then 0 else rate_bp end
            as deferral_bp,
        segment_from >= match_entry_date as is_match_period,
        segment_from >= core_entry_date as is_core_period
    from segments
)

select * from final
