{#- R3 compensation bases, day-exact: the year of each employee cut into segments of constant salary, deferral
    rate and match / core period (cut at every event of the timeline and at the entry dates), summed as exact
    integer numerators (cent-days, bp-cent-days). One row per snapshot row. -#}
{%- set year = var('simulation_year') -%}
{%- set max_bp = to_bp(var('plan_max_deferral_rate')) -%}
{%- set calculation = var('plan_match_calculation') -%}
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
    where simulation_year = {{ year }} and {{ sql_literal(var('plan_enabled')) }}
),

opening as (
    -- Salary and deferral rate on Jan 1 of the year's start actives: the baseline, or last year's closing state
    -- (year-keyed, so a past year's money can be re-run on its own).
{%- if year == var('start_year') %}
    select employee_id, current_compensation, deferral_rate from {{ ref('int_baseline_workforce') }}
{%- else %}
    select employee_id, full_year_equivalent_compensation as current_compensation, deferral_rate
    from {{ previous_year_relation('fct_workforce_snapshot') }}
    where simulation_year = {{ year - 1 }} and employment_status = 'active'
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
    -- The opening state (it carries the person's dates), then every change of salary or deferral rate in event
    -- order, then the days that only start a period (match entry, core entry, refund window).
    select employee_id, first_day as change_date, -1 as sequence, opening_salary_cents as salary_cents,
           opening_rate_bp as rate_bp, last_day, match_entry_date, core_entry_date, refund_from, refund_to,
           match_band_key, opening_rate_bp
    from bounds
    union all
    select employee_id, effective_date, event_sequence, {{ cents('compensation_amount') }}, null,
           null, null, null, null, null, null, null
    from events
    where event_type in ('promotion', 'raise')
    union all
    select employee_id, effective_date, event_sequence, null, {{ to_bp('deferral_rate') }},
           null, null, null, null, null, null, null
    from events
    where event_type in ('enrollment', 'deferral_match_response', 'deferral_escalation', 'opt_out')
    union all
    select employee_id, split_date, 0, null, null, null, null, null, null, null, null, null
    from (
        select employee_id, first_day, last_day, match_entry_date as split_date from bounds
        union all
        select employee_id, first_day, last_day, core_entry_date from bounds
        union all
        select employee_id, first_day, last_day, refund_from from bounds
    ) as splits
    where split_date > first_day and split_date <= last_day
),

segments as (
    -- One sort: each row holds from its date to the day before the next row (same-day rows get 0 days and drop).
    select
        employee_id,
        change_date as segment_from,
        coalesce(cast(lead(change_date) over timeline - 1 as date), first_value(last_day) over running) as segment_to,
        last_value(salary_cents ignore nulls) over running as salary_cents,
        least(last_value(rate_bp ignore nulls) over running, {{ max_bp }}) as rate_bp,
        first_value(match_entry_date) over running as match_entry_date,
        first_value(core_entry_date) over running as core_entry_date,
        first_value(refund_from) over running as refund_from,
        first_value(refund_to) over running as refund_to,
        first_value(match_band_key) over running as match_band_key,
        first_value(opening_rate_bp) over running as opening_rate_bp
    from changes
    window
        timeline as (partition by employee_id order by change_date, sequence),
        running as (timeline rows between unbounded preceding and current row)
),

periods as (
    select
        employee_id,
        date_diff('day', segment_from, segment_to) + 1 as days,
        salary_cents,
        rate_bp,
        -- r(t) of dc_plan: 0 inside a refunded EACA window.
        case when refund_to is not null and segment_from >= refund_from and segment_from < refund_to then 0
             else rate_bp end as deferral_bp,
        segment_from >= match_entry_date as is_match_period,
        segment_from >= core_entry_date as is_core_period,
        match_band_key,
        opening_rate_bp
    from segments
    where segment_to >= segment_from
),

final as (
    select
        employee_id,
        max(opening_rate_bp) as deferral_bp_boy,
        cast(sum(days) as integer) as days_employed,
        cast(coalesce(sum(days) filter (where is_match_period), 0) as integer) as match_days,
        cast(coalesce(sum(days) filter (where is_core_period), 0) as integer) as core_days,
        cast(sum(salary_cents * days) as bigint) as comp_num,
        cast(coalesce(sum(salary_cents * days) filter (where deferral_bp > 0), 0) as bigint) as deferral_comp_num,
        cast(coalesce(sum(salary_cents * days) filter (where rate_bp > 0), 0) as bigint) as gross_deferral_comp_num,
        cast(coalesce(sum(salary_cents * days) filter (where is_match_period), 0) as bigint) as match_comp_num,
        cast(coalesce(sum(salary_cents * days) filter (where is_core_period), 0) as bigint) as core_comp_num,
        cast(sum(deferral_bp * salary_cents * days) as bigint) as deferral_num,
        cast(sum(rate_bp * salary_cents * days) as bigint) as gross_deferral_num,
        cast(coalesce(sum(deferral_bp * salary_cents * days) filter (where is_match_period), 0) as bigint)
            as match_deferral_num
        {%- if calculation != 'annual_true_up' %},
        -- R8 per payroll: G = sum over the match period of g(r) * s * days, g in bp x bp (HUGEINT).
        coalesce(sum({{ match_by_band('rate', 'match_band_key', 'deferral_bp') }} * salary_cents * days)
                 filter (where is_match_period), 0) as per_payroll_num
        {%- endif %}
    from periods
    group by employee_id
)

select * from final
