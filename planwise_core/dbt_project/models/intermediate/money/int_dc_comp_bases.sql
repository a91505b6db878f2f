{#- R3 compensation bases, day-exact: the year of each employee cut into segments of constant salary and deferral
    rate (cut at every event of the timeline), summed as exact integer numerators (cent-days, bp-cent-days). The
    match and core periods and the refunded EACA window are not cuts: each segment counts the days of its overlap
    with them (docs/plan_money.md, "Day counts"). One row per snapshot row. -#}
{%- set year = var('simulation_year') -%}
{%- set max_bp = to_bp_value(var('plan_max_deferral_rate')) -%}
{%- set calculation = var('plan_match_calculation') -%}
{%- set match_waiting = var('plan_match_waiting_period_days') -%}
{%- set match_age = var('plan_match_minimum_age') -%}
{%- set core_waiting = var('plan_core_waiting_period_days') -%}
{%- set core_age = var('plan_core_minimum_age') -%}

with snapshot as (
    -- Only the columns read below: a CTE read several times may be materialized, with every column it selects.
    select employee_id, employee_birth_date, employee_hire_date, termination_date, eligibility_date, enrollment_date,
           current_age, current_tenure
    from {{ ref('fct_workforce_snapshot') }}
    where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_enabled')) }}
),

events as (
    select employee_id, event_type, event_category, effective_date, event_sequence, compensation_amount, deferral_rate
    from {{ ref('fct_yearly_events') }}
    where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_enabled')) }}
),

opening as (
    -- Salary and deferral rate on Jan 1 of the year's start actives: the baseline, or last year's closing state
    -- (year-keyed, so a past year's money can be re-run on its own).
{%- if year == var('start_year') %}
    select employee_id, current_compensation, deferral_rate from {{ ref('int_baseline_workforce') }}
{%- else %}
    select employee_id, full_year_equivalent_compensation as current_compensation, deferral_rate
    from {{ previous_year_relation('fct_workforce_snapshot') }}
    where simulation_year = ({{ sim_year() }} - 1) and employment_status = 'active'
{%- endif %}
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
        {{ cents('coalesce(opening.current_compensation, hires.compensation_amount)') }} as opening_salary_cents,
        {{ to_bp('coalesce(opening.deferral_rate, 0)') }} as opening_rate_bp,
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
        refunds.opt_out_date as refund_to,
        {{ band_key(var('plan_match_graded_by'), 'snapshot.current_age', 'snapshot.current_tenure') }} as match_band_key
    from snapshot
    left join opening using (employee_id)
    left join hires using (employee_id)
    left join refunds using (employee_id)
),

changes as (
    -- The opening state, then every change of salary or deferral rate in event order.
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
    where event_type in ('enrollment', 'deferral_match_response', 'deferral_escalation', 'opt_out')
),

segments as (
    -- One sort, one window: each row holds from its date to the day before the next row (the last to the last
    -- day worked; same-day rows get 0 days and drop).
    select
        employee_id,
        change_date as segment_from,
        cast(lead(change_date) over timeline - 1 as date) as next_to,
        last_value(salary_cents ignore nulls) over running as salary_cents,
        least(last_value(rate_bp ignore nulls) over running, {{ max_bp }}) as rate_bp
    from changes
    window
        timeline as (partition by employee_id order by change_date, sequence),
        running as (timeline rows between unbounded preceding and current row)
),

clipped as (
    -- Days of each segment inside the match period, the core period and the refunded EACA window (whose end is an
    -- opt-out, itself a change row): integer overlaps, so the sums are those of segments cut at each of these days.
    select
        segments.employee_id,
        segments.salary_cents,
        segments.rate_bp,
        bounds.match_band_key,
        bounds.opening_rate_bp,
        date_diff('day', segments.segment_from, coalesce(segments.next_to, bounds.last_day)) + 1 as days,
        case when bounds.match_entry_date is null then 0 else greatest(0, date_diff('day',
            greatest(segments.segment_from, bounds.match_entry_date), coalesce(segments.next_to, bounds.last_day)) + 1) end
            as match_days,
        case when bounds.core_entry_date is null then 0 else greatest(0, date_diff('day',
            greatest(segments.segment_from, bounds.core_entry_date), coalesce(segments.next_to, bounds.last_day)) + 1) end
            as core_days,
        case when bounds.refund_to is null then 0 else greatest(0, date_diff('day',
            greatest(segments.segment_from, bounds.refund_from),
            least(coalesce(segments.next_to, bounds.last_day), cast(bounds.refund_to - 1 as date))) + 1) end
            as refund_days,
        case when bounds.refund_to is null or bounds.match_entry_date is null then 0 else greatest(0, date_diff('day',
            greatest(segments.segment_from, bounds.refund_from, bounds.match_entry_date),
            least(coalesce(segments.next_to, bounds.last_day), cast(bounds.refund_to - 1 as date))) + 1) end
            as match_refund_days
    from segments
    inner join bounds using (employee_id)
    where coalesce(segments.next_to, bounds.last_day) >= segments.segment_from
),

periods as (
    -- r(t) of dc_plan is 0 inside the refunded window: the days a deferral rate applies outside it.
    select *, days - refund_days as deferral_days, match_days - match_refund_days as match_deferral_days
    from clipped
),

final as (
    select
        employee_id,
        max(opening_rate_bp) as deferral_bp_boy,
        cast(sum(days) as integer) as days_employed,
        cast(sum(match_days) as integer) as match_days,
        cast(sum(core_days) as integer) as core_days,
        cast(sum(salary_cents * days) as bigint) as comp_num,
        cast(coalesce(sum(salary_cents * deferral_days) filter (where rate_bp > 0), 0) as bigint) as deferral_comp_num,
        cast(coalesce(sum(salary_cents * days) filter (where rate_bp > 0), 0) as bigint) as gross_deferral_comp_num,
        cast(sum(salary_cents * match_days) as bigint) as match_comp_num,
        cast(sum(salary_cents * core_days) as bigint) as core_comp_num,
        cast(sum(rate_bp * salary_cents * deferral_days) as bigint) as deferral_num,
        cast(sum(rate_bp * salary_cents * days) as bigint) as gross_deferral_num,
        cast(sum(rate_bp * salary_cents * match_deferral_days) as bigint) as match_deferral_num
        {%- if calculation != 'annual_true_up' %},
        -- R8 per payroll: G = sum over the match period of g(r) * s * days, g in bp x bp (HUGEINT); g(0) = 0.
        coalesce(sum({{ match_by_band('rate', 'match_band_key', 'rate_bp') }} * salary_cents * match_deferral_days), 0)
            as per_payroll_num
        {%- endif %}
    from periods
    group by employee_id
)

select * from final
