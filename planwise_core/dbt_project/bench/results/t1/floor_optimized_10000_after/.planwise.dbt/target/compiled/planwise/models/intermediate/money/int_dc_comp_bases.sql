with snapshot as (
    select * from "planwise"."main"."fct_workforce_snapshot"
    where simulation_year = 2027 and true
),

events as (
    select * from "planwise"."main"."fct_yearly_events"
    where simulation_year = 2027 and true
),

opening as (
    -- Salary and deferral rate on Jan 1 of the year's start actives: the baseline, or last year's closing state
    -- (year-keyed, so a past year's money can be re-run on its own).
    select employee_id, full_year_equivalent_compensation as current_compensation, deferral_rate
    from "main"."fct_workforce_snapshot"
    where simulation_year = 2026 and employment_status = 'active'
),

hires as (
    select employee_id, compensation_amount from events where event_type = 'hire'
),

refunds as (
    -- EACA: an opt-out within the grace period after an auto-enrollment refunds the window's deferrals of Y.
    select events.employee_id, events.effective_date as opt_out_date
    from events
    inner join snapshot using (employee_id)
    where true
      and events.event_type = 'opt_out' and events.event_category = 'auto_opt_out'
      and date_diff('day', snapshot.enrollment_date, events.effective_date) <= 30
),

bounds as (
    select
        snapshot.employee_id,
        greatest(snapshot.employee_hire_date, make_date(2027, 1, 1)) as first_day,
        least(coalesce(snapshot.termination_date, make_date(2027, 12, 31)), make_date(2027, 12, 31)) as last_day,
        cast(cast(floor((coalesce(opening.current_compensation, hires.compensation_amount) * 100) + 0.5) as bigint) as bigint) as opening_salary_cents,
        cast(floor((cast(coalesce(opening.deferral_rate, 0) as decimal(18, 10)) * 10000) + 0.5) as bigint) as opening_rate_bp,
        greatest(snapshot.eligibility_date) as match_entry_date,
        greatest(snapshot.employee_hire_date, cast(snapshot.employee_hire_date + to_days(365) as date), cast(snapshot.employee_birth_date + to_years(21) as date)) as core_entry_date,
        case when refunds.opt_out_date is not null then greatest(snapshot.enrollment_date, make_date(2027, 1, 1)) end
            as refund_from,
        refunds.opt_out_date as refund_to,
        0 as match_band_key
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
    select employee_id, effective_date, event_sequence, cast(cast(floor((compensation_amount * 100) + 0.5) as bigint) as bigint), null,
           null, null, null, null, null, null, null
    from events
    where event_type in ('promotion', 'raise')
    union all
    select employee_id, effective_date, event_sequence, null, cast(floor((cast(deferral_rate as decimal(18, 10)) * 10000) + 0.5) as bigint),
           null, null, null, null, null, null, null
    from events
    where event_type in ('enrollment', 'deferral_escalation', 'opt_out')
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
        least(last_value(rate_bp ignore nulls) over running, cast(floor((cast(0.75 as decimal(18, 10)) * 10000) + 0.5) as bigint)) as rate_bp,
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
    from periods
    group by employee_id
)

select * from final