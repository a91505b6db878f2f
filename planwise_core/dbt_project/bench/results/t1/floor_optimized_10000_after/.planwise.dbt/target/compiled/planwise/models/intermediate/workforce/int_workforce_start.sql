with previous_actives as (
    select
        employee_id, employee_birth_date, employee_hire_date, level_id,
        full_year_equivalent_compensation as current_compensation,
        eligibility_date, is_enrolled, enrollment_date, deferral_rate, ever_opted_out
    from "main"."fct_workforce_snapshot"
    where simulation_year = 2026
      and employment_status = 'active'
),

age_bands as (
    select * from "planwise"."main"."stg_age_bands"
),

tenure_bands as (
    select * from "planwise"."main"."stg_tenure_bands"
),

measured as (
    select
        previous_actives.*,
        (year(make_date(2026, 12, 31)) - year(employee_birth_date)
 - case when month(make_date(2026, 12, 31)) * 100 + day(make_date(2026, 12, 31)) < month(employee_birth_date) * 100 + day(employee_birth_date) then 1 else 0 end) as current_age,
        (year(make_date(2026, 12, 31)) - year(employee_hire_date)
 - case when month(make_date(2026, 12, 31)) * 100 + day(make_date(2026, 12, 31)) < month(employee_hire_date) * 100 + day(employee_hire_date) then 1 else 0 end) as current_tenure
    from previous_actives
),

final as (
    select
        2027 as simulation_year,
        measured.employee_id,
        measured.employee_birth_date,
        measured.employee_hire_date,
        measured.level_id,
        measured.current_compensation,
        measured.current_age,
        measured.current_tenure,
        age_bands.age_band_id,
        tenure_bands.tenure_band_id,
        -- Recomputed from the config so a changed waiting period applies to everyone; never after an enrollment.
        least(greatest(
  cast(measured.employee_hire_date + to_days(30) as date),
  cast(measured.employee_birth_date + to_years(21) as date)
), measured.enrollment_date)
            as eligibility_date,
        measured.is_enrolled,
        measured.enrollment_date,
        measured.deferral_rate,
        measured.ever_opted_out
    from measured
    left join age_bands
    on measured.current_age >= age_bands.min_age and measured.current_age < age_bands.max_age
left join tenure_bands
    on measured.current_tenure >= tenure_bands.min_tenure and measured.current_tenure < tenure_bands.max_tenure
)

select * from final