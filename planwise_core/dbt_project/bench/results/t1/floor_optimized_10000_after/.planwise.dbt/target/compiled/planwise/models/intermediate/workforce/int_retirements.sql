with workforce_start as (
    select * from "planwise"."main"."int_workforce_start"
),

retirement_rates as (
    select * from "planwise"."main"."stg_retirement_rates"
),

candidates as (
    -- Age on Dec 31 of Y-1, as measured by the start population; ages outside the table never retire.
    select
        workforce_start.employee_id,
        workforce_start.level_id,
        workforce_start.current_age,
        least(retirement_rates.retirement_rate * 1.0, 1) as retirement_probability
    from workforce_start
    inner join retirement_rates
        on workforce_start.current_age >= retirement_rates.min_age
       and workforce_start.current_age < retirement_rates.max_age
    where true
),

final as (
    select
        2027 as simulation_year,
        employee_id,
        level_id,
        current_age,
        retirement_probability,
        cast(make_date(2027, 1, 1) + to_days(cast(floor(
            (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|retirement_date'), 16))::ubigint / 18446744073709551616.0) * (date_diff('day', make_date(2027, 1, 1), make_date(2027, 12, 31)) + 1)
        ) as integer)) as date) as termination_date
    from candidates
    where (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|retirement'), 16))::ubigint / 18446744073709551616.0) < retirement_probability
)

select * from final