with employment_year as (
    select * from "planwise"."main"."int_employment_year"
),

scoped as (
    select
        *,
        true
            and ('new_hires_only' = 'all_eligible_employees' or employee_hire_date > cast('2024-12-31' as date)) and employee_hire_date >= cast('2024-01-01' as date)
            as is_auto_enrollment_scope,
        -- Census employees already eligible before the first year are swept in on its Jan 1.
        case
            when employee_hire_date <= cast('2024-12-31' as date) and eligibility_date < make_date(2025, 1, 1) then make_date(2025, 1, 1)
            else eligibility_date
        end as window_start_date
    from employment_year
),

auto_plan as (
    select
        *,
        year(window_start_date) as draw_year,
        cast(window_start_date + to_days(45) as date) as auto_enrollment_date
    from scoped
    where is_auto_enrollment_scope
),

auto_decided as (
    select
        *,
        true and 45 > 0
            and (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|proactive'), 16))::ubigint / 18446744073709551616.0)
                < case
  when (year(window_start_date) - year(employee_birth_date)
 - case when month(window_start_date) * 100 + day(window_start_date) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) < 31 then 0.25
  when (year(window_start_date) - year(employee_birth_date)
 - case when month(window_start_date) * 100 + day(window_start_date) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) <= 45 then 0.45
  when (year(window_start_date) - year(employee_birth_date)
 - case when month(window_start_date) * 100 + day(window_start_date) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) <= 55 then 0.65
  else 0.75
end
            as is_proactive,
        cast(window_start_date + to_days(cast(floor(
            (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|proactive_date'), 16))::ubigint / 18446744073709551616.0) * 45
        ) as integer)) as date) as proactive_date,
        cast(case
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|proactive_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.25 then 0.03
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|proactive_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.6 then 0.06
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|proactive_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.8 then 0.1
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|proactive_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.9 then 0.15
  else 0.2
end as decimal(9, 6)) as proactive_deferral_rate,
        (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|opt_out'), 16))::ubigint / 18446744073709551616.0)
            < case
  when (year(auto_enrollment_date) - year(employee_birth_date)
 - case when month(auto_enrollment_date) * 100 + day(auto_enrollment_date) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) < 31 then 0.35
  when (year(auto_enrollment_date) - year(employee_birth_date)
 - case when month(auto_enrollment_date) * 100 + day(auto_enrollment_date) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) <= 45 then 0.2
  when (year(auto_enrollment_date) - year(employee_birth_date)
 - case when month(auto_enrollment_date) * 100 + day(auto_enrollment_date) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) <= 55 then 0.15
  else 0.1
end
            as is_opting_out,
        cast(auto_enrollment_date + to_days(1 + cast(floor(
            (('0x' || left(sha256('42|' || employee_id || '|' || cast(draw_year as varchar) || '|opt_out_date'), 16))::ubigint / 18446744073709551616.0) * 30
        ) as integer)) as date) as opt_out_date
    from auto_plan
),

proactive_enrollments as (
    select employee_id, proactive_date as effective_date, 'proactive' as event_category,
           proactive_deferral_rate as deferral_rate
    from auto_decided
    where is_proactive
      and year(proactive_date) = 2027
      and (proactive_date >= employee_hire_date and (termination_date is null or termination_date >= proactive_date))
      and not is_enrolled and not ever_opted_out
),

auto_enrollments as (
    select employee_id, auto_enrollment_date as effective_date, 'auto' as event_category,
           cast(0.06 as decimal(9, 6)) as deferral_rate
    from auto_decided
    where not is_proactive
      and year(auto_enrollment_date) = 2027
      and (auto_enrollment_date >= employee_hire_date and (termination_date is null or termination_date >= auto_enrollment_date))
      and not is_enrolled and not ever_opted_out
),

opt_outs as (
    select auto_decided.employee_id, auto_decided.opt_out_date as effective_date, 'auto_opt_out' as event_category,
           cast(0 as decimal(9, 6)) as deferral_rate
    from auto_decided
    left join auto_enrollments using (employee_id)
    where not auto_decided.is_proactive
      and auto_decided.is_opting_out
      and year(auto_decided.opt_out_date) = 2027
      and (auto_decided.opt_out_date >= employee_hire_date and (termination_date is null or termination_date >= auto_decided.opt_out_date))
      and not auto_decided.ever_opted_out
      and (auto_enrollments.employee_id is not null
           or (auto_decided.is_enrolled and auto_decided.enrollment_date = auto_decided.auto_enrollment_date))
),

voluntary_window as (
    select
        *,
        greatest(make_date(2027, 1, 1), eligibility_date, employee_hire_date) as window_from,
        least(make_date(2027, 12, 31), coalesce(termination_date, make_date(2027, 12, 31))) as window_to
    from scoped
    where true
      and not is_auto_enrollment_scope
      and not is_enrolled and not ever_opted_out
),

voluntary_enrollments as (
    select
        employee_id,
        cast(window_from + to_days(cast(floor(
            (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|voluntary_date'), 16))::ubigint / 18446744073709551616.0) * (date_diff('day', window_from, window_to) + 1)
        ) as integer)) as date) as effective_date,
        'voluntary' as event_category,
        cast(case
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|voluntary_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.25 then 0.03
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|voluntary_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.6 then 0.06
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|voluntary_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.8 then 0.1
  when (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|voluntary_deferral'), 16))::ubigint / 18446744073709551616.0) < 0.9 then 0.15
  else 0.2
end as decimal(9, 6)) as deferral_rate
    from voluntary_window
    where window_from <= window_to
      and (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|voluntary'), 16))::ubigint / 18446744073709551616.0) < 0.1
),

final as (
    select 2027 as simulation_year, 'enrollment' as event_type, * from proactive_enrollments
    union all
    select 2027, 'enrollment', * from auto_enrollments
    union all
    select 2027, 'enrollment', * from voluntary_enrollments
    union all
    select 2027, 'opt_out', * from opt_outs
)

select * from final