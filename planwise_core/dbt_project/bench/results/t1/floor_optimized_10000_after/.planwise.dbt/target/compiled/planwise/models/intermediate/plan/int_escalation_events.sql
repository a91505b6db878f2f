with employment_year as (
    select * from "planwise"."main"."int_employment_year"
),

enrollment_events as (
    select * from "planwise"."main"."int_enrollment_events"
),

census as (
    select * from "planwise"."main"."stg_census"
),

year_enrollments as (
    select employee_id, effective_date, event_category, deferral_rate
    from enrollment_events
    where event_type = 'enrollment'
),

year_opt_outs as (
    select employee_id, effective_date
    from enrollment_events
    where event_type = 'opt_out'
),

earlier_auto_enrollments as (
    select cast(null as varchar) as employee_id where false
),

on_escalation_day as (
    -- The rate in force on E_Y: same-day enrollments come before the escalation, same-day opt-outs after it.
    select
        employment_year.employee_id,
        employment_year.employee_hire_date,
        employment_year.termination_date,
        coalesce(year_enrollments.effective_date, employment_year.enrollment_date) as enrollment_date,
        year_enrollments.event_category = 'auto' or earlier_auto_enrollments.employee_id is not null as is_auto_enrolled,
        coalesce(census.auto_escalation_opt_out, false) as has_census_opt_out,
        case
            when year_opt_outs.effective_date < make_date(2027, 1, 1) then 0
            when year_enrollments.effective_date <= make_date(2027, 1, 1) then cast(floor((cast(year_enrollments.deferral_rate as decimal(18, 10)) * 10000) + 0.5) as bigint)
            when year_enrollments.employee_id is not null then 0
            when employment_year.is_enrolled then cast(floor((cast(employment_year.deferral_rate as decimal(18, 10)) * 10000) + 0.5) as bigint)
            else 0
        end as rate_bp
    from employment_year
    left join year_enrollments using (employee_id)
    left join year_opt_outs using (employee_id)
    left join earlier_auto_enrollments using (employee_id)
    left join census using (employee_id)
),

timed as (
    select
        *,
        -- Census participants count as enrolled in the base year (dc_plan R2).
        case when enrollment_date <= cast('2024-12-31' as date) then 2024 else year(enrollment_date) end
            as enrollment_year
    from on_escalation_day
),

eligible as (
    select
        *,
        -- The permanent opt-out is drawn once, keyed by the first year the enrollment delay allows escalation.
        greatest(2025, enrollment_year + 1) as draw_year
    from timed
    where (make_date(2027, 1, 1) >= employee_hire_date and (termination_date is null or termination_date >= make_date(2027, 1, 1)))
      and rate_bp > 0
      and rate_bp < cast(floor((cast(0.1 as decimal(18, 10)) * 10000) + 0.5) as bigint)
      and 2027 - enrollment_year >= 1
      and not has_census_opt_out
      and true
),

final as (
    select
        2027 as simulation_year,
        employee_id,
        make_date(2027, 1, 1) as effective_date,
        'auto_escalation' as event_category,
        cast(cast(rate_bp as decimal(18, 0)) * 0.0001 as decimal(9, 6)) as previous_deferral_rate,
        cast(cast(least(cast(floor((cast(0.1 as decimal(18, 10)) * 10000) + 0.5) as bigint), rate_bp + cast(floor((cast(0.01 as decimal(18, 10)) * 10000) + 0.5) as bigint)) as decimal(18, 0)) * 0.0001 as decimal(9, 6))
            as deferral_rate
    from eligible
)

select * from final