with  __dbt__cte__int_dc_comp_bases as (
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
),  __dbt__cte__int_dc_deferrals as (
with snapshot as (
    -- plan.enabled: false leaves the year without money rows.
    select * from "planwise"."main"."fct_workforce_snapshot"
    where simulation_year = 2027 and true
),

comp_bases as (
    select * from __dbt__cte__int_dc_comp_bases
),

limits as (
    select * from "planwise"."main"."int_irs_limits_by_year"
    where limit_year = 2027
),

previous_limits as (
    select * from "planwise"."main"."int_irs_limits_by_year"
    where limit_year = 2026
),

escalations as (
    select employee_id from "planwise"."main"."fct_yearly_events"
    where simulation_year = 2027 and event_type = 'deferral_escalation'
),

prior_state as (
    -- What carries from Y-1 (dc_plan R5, R12): last year's plan pay W(Y-1), the employer balances and the
    -- 1,000-hour years. In the first year: the census salary for the days employed in the base year, the census
    -- balances, and the completed years of service on the census date.
    select
        employee_id,
        cast(cast(floor((plan_comp * 100) + 0.5) as bigint) as bigint) as prior_wages_cents,
        cast(cast(floor((match_balance_eoy * 100) + 0.5) as bigint) as bigint) as match_balance_boy_cents,
        cast(cast(floor((core_balance_eoy * 100) + 0.5) as bigint) as bigint) as core_balance_boy_cents,
        hours_service_years as hours_service_years_boy
    from "main"."fct_dc_contributions"
    where simulation_year = 2026
),

based as (
    select
        snapshot.employee_id,
        snapshot.employee_birth_date,
        snapshot.employee_hire_date,
        snapshot.termination_date,
        snapshot.current_age,
        snapshot.current_tenure,
        snapshot.is_eligible,
        cast((date_diff('day', make_date(2027, 1, 1), make_date(2027, 12, 31)) + 1) as bigint) as days_in_year,
        comp_bases.* exclude (employee_id),
        limits.elective_deferral_402g * 100 as limit_402g_cents,
        limits.compensation_401a17 * 100 as limit_401a17_cents,
        limits.annual_additions_415c * 100 as limit_415c_cents,
        limits.status as limits_status,
        cast(floor((cast(snapshot.deferral_rate as decimal(18, 10)) * 10000) + 0.5) as bigint) as deferral_bp_eoy,
        escalations.employee_id is not null as escalated,
        prior_state.prior_wages_cents,
        prior_state.prior_wages_cents > previous_limits.hce_414q * 100 as is_hce,
        coalesce(prior_state.match_balance_boy_cents, 0) as match_balance_boy_cents,
        coalesce(prior_state.core_balance_boy_cents, 0) as core_balance_boy_cents,
        coalesce(prior_state.hours_service_years_boy, 0) as hours_service_years_boy,
        -- Catch-up limit by Dec 31 age (R5); the ages 60-63 amount from 2025.
        case
            when not true then 0
            when true and 2027 >= 2025 and snapshot.current_age between 60 and 63
                then limits.catch_up_60_63 * 100
            when snapshot.current_age >= 50 then limits.catch_up_50 * 100
            else 0
        end as age_catch_up_cents,
        2027 >= 2026 and true
            and coalesce(prior_state.prior_wages_cents > limits.roth_catch_up_wage_threshold * 100, false)
            as is_roth_catch_up_required
    from snapshot
    inner join comp_bases using (employee_id)
    cross join limits
    left join previous_limits on true
    left join escalations using (employee_id)
    left join prior_state using (employee_id)
),

requested as (
    -- D_req = k_def * sum of r * s / N, k_def = min(1, L17 / C_def): one half-up division of exact numerators.
    select
        *,
        case
            when deferral_num = 0 then 0
            when true and deferral_comp_num > limit_401a17_cents * days_in_year
                then cast((cast(cast(deferral_num as hugeint) * limit_401a17_cents as hugeint) * 2 + cast(cast(deferral_comp_num as hugeint) * 10000 as hugeint)) // (cast(cast(deferral_comp_num as hugeint) * 10000 as hugeint) * 2) as bigint)
            else ((cast(deferral_num as bigint) * 2 + cast(days_in_year * 10000 as bigint)) // (cast(days_in_year * 10000 as bigint) * 2))
        end as requested_cents,
        case
            when gross_deferral_num = 0 then 0
            when true and gross_deferral_comp_num > limit_401a17_cents * days_in_year
                then cast((cast(cast(gross_deferral_num as hugeint) * limit_401a17_cents as hugeint) * 2 + cast(cast(gross_deferral_comp_num as hugeint) * 10000 as hugeint)) // (cast(cast(gross_deferral_comp_num as hugeint) * 10000 as hugeint) * 2) as bigint)
            else ((cast(gross_deferral_num as bigint) * 2 + cast(days_in_year * 10000 as bigint)) // (cast(days_in_year * 10000 as bigint) * 2))
        end as gross_requested_cents,
        -- The Roth catch-up rule without Roth in the plan takes the catch-up away.
        case when is_roth_catch_up_required and not false then 0
             else age_catch_up_cents end as catch_up_limit_cents
    from based
),

final as (
    select
        2027 as simulation_year,
        employee_id,
        employee_hire_date,
        termination_date,
        current_age,
        current_tenure,
        days_in_year,
        days_employed,
        match_days,
        core_days,
        comp_num,
        deferral_comp_num,
        match_comp_num,
        core_comp_num,
        deferral_num,
        match_deferral_num,
        limit_402g_cents,
        limit_401a17_cents,
        limit_415c_cents,
        limits_status,
        deferral_bp_boy,
        deferral_bp_eoy,
        escalated,
        prior_wages_cents,
        is_hce,
        match_balance_boy_cents,
        core_balance_boy_cents,
        hours_service_years_boy,
        is_roth_catch_up_required,
        catch_up_limit_cents,
        requested_cents,
        greatest(0, gross_requested_cents - requested_cents) as eaca_refund_cents,
        limit_402g_cents + catch_up_limit_cents as elective_limit_cents,
        least(requested_cents, limit_402g_cents + catch_up_limit_cents) as deferral_cents,
        requested_cents >= limit_402g_cents + catch_up_limit_cents as limit_402g_reached,
        greatest(0, least(requested_cents, limit_402g_cents + catch_up_limit_cents) - limit_402g_cents)
            as provisional_catch_up_cents
    from requested
)

select * from final
),  __dbt__cte__int_dc_employer as (
with deferrals as (
    select * from __dbt__cte__int_dc_deferrals
),

bases as (
    select
        deferrals.*,
        case when match_comp_num > limit_401a17_cents * days_in_year then limit_401a17_cents else match_comp_num end
            as match_cnum,
        cast(case when match_comp_num > limit_401a17_cents * days_in_year then 1 else days_in_year end as bigint) as match_cden,
        case when core_comp_num > limit_401a17_cents * days_in_year then limit_401a17_cents else core_comp_num end
            as core_cnum,
        cast(case when core_comp_num > limit_401a17_cents * days_in_year then 1 else days_in_year end as bigint) as core_cden,
        -- D_m: all of D when every deferral day is a match day, else its share of the deferral numerator.
        greatest(0, case
            when deferral_num = 0 then 0
            when match_deferral_num = deferral_num then deferral_cents
            else cast((cast(cast(deferral_cents as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint)
        end ) as matchable_deferral_cents,
        true and match_days > 0 as match_eligible,
        true and core_days > 0 as core_eligible,
        ((not false
  or termination_date is null or termination_date >= make_date(2027, 12, 31))
 and (cast(days_employed as bigint) * 52 * cast(floor((cast(40.0 as decimal(18, 4)) * 10000) + 0.5) as bigint)) >= cast(floor((cast(0.0 as decimal(18, 4)) * 10000) + 0.5) as bigint) * days_in_year) as match_conditions_met,
        ((not true
  or termination_date is null or termination_date >= make_date(2027, 12, 31) or current_age >= 65)
 and (cast(days_employed as bigint) * 52 * cast(floor((cast(40.0 as decimal(18, 4)) * 10000) + 0.5) as bigint)) >= cast(floor((cast(1000.0 as decimal(18, 4)) * 10000) + 0.5) as bigint) * days_in_year) as core_conditions_met
    from deferrals
),

formula as (
    select
        *,
        case when match_eligible and matchable_deferral_cents > 0
             then cast((cast((cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(matchable_deferral_cents as hugeint) * (match_cden) * 10000 - (0) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint)) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(matchable_deferral_cents as hugeint) * (match_cden) * 10000 - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint))) as hugeint) * 2 + cast(match_cden * 100000000 as hugeint)) // (cast(match_cden * 100000000 as hugeint) * 2) as bigint)
             else 0 end as true_up_cents,
        case
    when current_tenure >= 0 and current_tenure < 5 then cast(floor((cast(0.02 as decimal(18, 10)) * 10000) + 0.5) as bigint)
    when current_tenure >= 5 then cast(floor((cast(0.04 as decimal(18, 10)) * 10000) + 0.5) as bigint)
end as core_rate_bp
    from bases
),

amounts as (
    select
        *,
        case when match_conditions_met then true_up_cents else 0 end as formula_match_cents,
        case when core_eligible and core_conditions_met
             then ((cast(core_rate_bp * core_cnum as bigint) * 2 + cast(core_cden * 10000 as bigint)) // (cast(core_cden * 10000 as bigint) * 2)) else 0 end as core_cents
    from formula
),

final as (
    select
        * exclude (true_up_cents, formula_match_cents),
        true_up_cents as match_true_up_cents,
        case when match_eligible and matchable_deferral_cents > 0 then formula_match_cents else 0 end as match_cents
    from amounts
)

select * from final
), employer as (
    select * from __dbt__cte__int_dc_employer
),

checked as (
    select
        *,
        ((cast(comp_num as bigint) * 2 + cast(days_in_year as bigint)) // (cast(days_in_year as bigint) * 2)) as plan_comp_cents,
        least(limit_415c_cents, ((cast(comp_num as bigint) * 2 + cast(days_in_year as bigint)) // (cast(days_in_year as bigint) * 2))) as limit_415_cents
    from employer
),

excess as (
    select *, ((deferral_cents) - least(catch_up_limit_cents, greatest(0, (deferral_cents) - least(limit_402g_cents, greatest(0, limit_415_cents - (match_cents) - (core_cents))))) + (match_cents) + (core_cents) - limit_415_cents) > 0 as is_over_limit
    from checked
),

unmatched_refunded as (
    -- Step 1: unmatched deferrals, above S (the deferral at which the match saturates; 0 without a match),
    -- regular dollars only (catch-up is outside 415); M stays.
    select
        *,
        case when is_over_limit then deferral_cents - least(
            greatest(0, deferral_cents - case when match_cents = 0 then 0 else
                case
    when (cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint)) = 0 then 0
    when cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) > 0 and (cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint)) <= cast(0 as hugeint) + cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint)
        then ((0) * cast(match_cnum as hugeint) * cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) + (cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint)) - (cast(0 as hugeint))
              + cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * cast(match_cden as hugeint) * 10000 - 1) // (cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * cast(match_cden as hugeint) * 10000)
    when cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) > 0 and (cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint)) <= cast(0 as hugeint) + cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint)
        then ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) * cast(match_cnum as hugeint) * cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) + (cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint)) - (cast(0 as hugeint) + cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint))
              + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * cast(match_cden as hugeint) * 10000 - 1) // (cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * cast(match_cden as hugeint) * 10000)
end end),
            ((deferral_cents) - least(catch_up_limit_cents, greatest(0, (deferral_cents) - least(limit_402g_cents, greatest(0, limit_415_cents - (match_cents) - (core_cents))))) + (match_cents) + (core_cents) - limit_415_cents),
            deferral_cents - least(catch_up_limit_cents, greatest(0, (deferral_cents) - least(limit_402g_cents, greatest(0, limit_415_cents - (match_cents) - (core_cents))))))
        else deferral_cents end as step1_deferral_cents
    from excess
),

matched_lowered as (
    -- Step 2: matched deferrals and their match, down to the largest deferral that fits.
    select
        *,
        case when is_over_limit and ((step1_deferral_cents) - least(catch_up_limit_cents, greatest(0, (step1_deferral_cents) - least(limit_402g_cents, greatest(0, limit_415_cents - (match_cents) - (core_cents))))) + (match_cents) + (core_cents) - limit_415_cents) > 0
             then (list_reduce(range(27), (acc, step) ->
    case when (((((acc // 4294967296) + (acc % 4294967296) + 1) // 2)) - least(catch_up_limit_cents, greatest(0, ((((acc // 4294967296) + (acc % 4294967296) + 1) // 2)) - least(limit_402g_cents, greatest(0, limit_415_cents - (least(match_cents, cast((cast((cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then ((((acc // 4294967296) + (acc % 4294967296) + 1) // 2))
                 else cast((cast(cast((((acc // 4294967296) + (acc % 4294967296) + 1) // 2) as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint) end) as hugeint) * (match_cden) * 10000 - (0) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint)) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then ((((acc // 4294967296) + (acc % 4294967296) + 1) // 2))
                 else cast((cast(cast((((acc // 4294967296) + (acc % 4294967296) + 1) // 2) as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint) end) as hugeint) * (match_cden) * 10000 - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint))) as hugeint) * 2 + cast(match_cden * 100000000 as hugeint)) // (cast(match_cden * 100000000 as hugeint) * 2) as bigint))) - (core_cents))))) + (least(match_cents, cast((cast((cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then ((((acc // 4294967296) + (acc % 4294967296) + 1) // 2))
                 else cast((cast(cast((((acc // 4294967296) + (acc % 4294967296) + 1) // 2) as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint) end) as hugeint) * (match_cden) * 10000 - (0) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint)) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then ((((acc // 4294967296) + (acc % 4294967296) + 1) // 2))
                 else cast((cast(cast((((acc // 4294967296) + (acc % 4294967296) + 1) // 2) as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint) end) as hugeint) * (match_cden) * 10000 - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint))) as hugeint) * 2 + cast(match_cden * 100000000 as hugeint)) // (cast(match_cden * 100000000 as hugeint) * 2) as bigint))) + (core_cents) - limit_415_cents) <= 0
         then (((acc // 4294967296) + (acc % 4294967296) + 1) // 2) * 4294967296 + (acc % 4294967296)
         else (acc // 4294967296) * 4294967296 + (((acc // 4294967296) + (acc % 4294967296) + 1) // 2) - 1 end,
    cast(step1_deferral_cents as bigint)) // 4294967296)
             else step1_deferral_cents end as final_deferral_cents
    from unmatched_refunded
),

rematched as (
    select
        *,
        case when final_deferral_cents < step1_deferral_cents then least(match_cents, cast((cast((cast(floor((cast(1.0 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then (final_deferral_cents)
                 else cast((cast(cast(final_deferral_cents as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint) end) as hugeint) * (match_cden) * 10000 - (0) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (0)) * cast(match_cnum as hugeint)) + cast(floor((cast(0.5 as decimal(18, 10)) * 10000) + 0.5) as bigint) * least(greatest(cast(greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then (final_deferral_cents)
                 else cast((cast(cast(final_deferral_cents as hugeint) * match_deferral_num as hugeint) * 2 + cast(deferral_num as hugeint)) // (cast(deferral_num as hugeint) * 2) as bigint) end) as hugeint) * (match_cden) * 10000 - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint)) * cast(match_cnum as hugeint), 0), ((cast(floor((cast(0.05 as decimal(18, 10)) * 10000) + 0.5) as bigint)) - (cast(floor((cast(0.03 as decimal(18, 10)) * 10000) + 0.5) as bigint))) * cast(match_cnum as hugeint))) as hugeint) * 2 + cast(match_cden * 100000000 as hugeint)) // (cast(match_cden * 100000000 as hugeint) * 2) as bigint))
             else match_cents end as final_match_cents
    from matched_lowered
),

corrected as (
    -- Step 3: the core takes what is left of the excess.
    select
        *,
        core_cents - least(core_cents, greatest(0,
            ((final_deferral_cents) - least(catch_up_limit_cents, greatest(0, (final_deferral_cents) - least(limit_402g_cents, greatest(0, limit_415_cents - (final_match_cents) - (core_cents))))) + (final_match_cents) + (core_cents) - limit_415_cents))) as final_core_cents
    from rematched
),

split as (
    select
        *,
        least(catch_up_limit_cents, greatest(0, (final_deferral_cents) - least(limit_402g_cents, greatest(0, limit_415_cents - (final_match_cents) - (final_core_cents))))) as catch_up_cents
    from corrected
),

final as (
    select
        *,
        final_deferral_cents - catch_up_cents as regular_deferral_cents,
        cast(0 as bigint) as roth_cents,
        deferral_cents - final_deferral_cents as limit_415_refund_cents,
        final_deferral_cents < deferral_cents or final_match_cents < match_cents or final_core_cents < core_cents
            as reduced_415
    from split
)

select * from final