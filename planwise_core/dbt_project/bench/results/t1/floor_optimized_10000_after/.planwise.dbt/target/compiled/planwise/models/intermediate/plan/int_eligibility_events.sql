with employment_year as (
    select * from "planwise"."main"."int_employment_year"
),

final as (
    select
        2027 as simulation_year,
        employee_id,
        eligibility_date as effective_date
    from employment_year
    where year(eligibility_date) = 2027
      and (eligibility_date >= employee_hire_date and (termination_date is null or termination_date >= eligibility_date))
)

select * from final