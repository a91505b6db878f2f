{#- Exactly the required number of this year's hires leave, between hire + 30 days and Dec 31. -#}

with hires as (
    select * from {{ ref('int_hires') }}
),

requirements as (
    select * from {{ ref('int_workforce_requirements') }}
    where simulation_year = {{ sim_year() }}
),

ranked as (
    select
        hires.employee_id,
        hires.employee_hire_date,
        hires.level_id,
        row_number() over (
            order by {{ uniform_draw('hires.employee_id', sim_year(), 'new_hire_termination') }}, hires.employee_id
        ) as selection_rank
    from hires
),

windowed as (
    select
        ranked.*,
        -- Fewer than 30 days left: the day after hire, but never past Dec 31.
        case
            when ranked.employee_hire_date + 30 <= {{ year_end() }} then cast(ranked.employee_hire_date + 30 as date)
            else least(cast(ranked.employee_hire_date + 1 as date), {{ year_end() }})
        end as earliest_date
    from ranked
    cross join requirements
    where ranked.selection_rank <= requirements.new_hire_terminations
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        level_id,
        cast(earliest_date + to_days(cast(floor(
            {{ uniform_draw('employee_id', sim_year(), 'new_hire_termination_date') }}
            * (date_diff('day', earliest_date, {{ year_end() }}) + 1)
        ) as integer)) as date) as termination_date
    from windowed
)

select * from final
