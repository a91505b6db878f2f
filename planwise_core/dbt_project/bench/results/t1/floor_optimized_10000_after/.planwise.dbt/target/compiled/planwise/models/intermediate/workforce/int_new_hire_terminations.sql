with hires as (
    select * from "planwise"."main"."int_hires"
),

requirements as (
    select * from "planwise"."main"."int_workforce_requirements"
    where simulation_year = 2027
),

ranked as (
    select
        hires.employee_id,
        hires.employee_hire_date,
        hires.level_id,
        row_number() over (
            order by (('0x' || left(sha256('42|' || hires.employee_id || '|' || cast(2027 as varchar) || '|new_hire_termination'), 16))::ubigint / 18446744073709551616.0), hires.employee_id
        ) as selection_rank
    from hires
),

windowed as (
    select
        ranked.*,
        -- Fewer than 30 days left: the day after hire, but never past Dec 31.
        case
            when ranked.employee_hire_date + 30 <= make_date(2027, 12, 31) then cast(ranked.employee_hire_date + 30 as date)
            else least(cast(ranked.employee_hire_date + 1 as date), make_date(2027, 12, 31))
        end as earliest_date
    from ranked
    cross join requirements
    where ranked.selection_rank <= requirements.new_hire_terminations
),

final as (
    select
        2027 as simulation_year,
        employee_id,
        level_id,
        cast(earliest_date + to_days(cast(floor(
            (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|new_hire_termination_date'), 16))::ubigint / 18446744073709551616.0)
            * (date_diff('day', earliest_date, make_date(2027, 12, 31)) + 1)
        ) as integer)) as date) as termination_date
    from windowed
)

select * from final