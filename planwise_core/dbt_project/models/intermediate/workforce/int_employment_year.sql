{#- Everyone employed at any time in the year: start actives and hires, with when and why (termination_category) they left. -#}

with workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

hires as (
    select * from {{ ref('int_hires') }}
),

experienced_terminations as (
    select * from {{ ref('int_experienced_terminations') }}
),

new_hire_terminations as (
    select * from {{ ref('int_new_hire_terminations') }}
),

continuing as (
    select
        workforce_start.employee_id,
        workforce_start.employee_birth_date,
        workforce_start.employee_hire_date,
        false as is_new_hire,
        experienced_terminations.termination_date,
        experienced_terminations.termination_category,
        workforce_start.eligibility_date,
        workforce_start.is_enrolled,
        workforce_start.enrollment_date,
        workforce_start.deferral_rate,
        workforce_start.ever_opted_out
    from workforce_start
    left join experienced_terminations using (employee_id)
),

joined as (
    select
        hires.employee_id,
        hires.employee_birth_date,
        hires.employee_hire_date,
        true as is_new_hire,
        new_hire_terminations.termination_date,
        case when new_hire_terminations.employee_id is not null then 'new_hire_termination' end as termination_category,
        {{ eligibility_date('hires.employee_birth_date', 'hires.employee_hire_date') }} as eligibility_date,
        false as is_enrolled,
        cast(null as date) as enrollment_date,
        cast(0 as decimal(9, 6)) as deferral_rate,
        false as ever_opted_out
    from hires
    left join new_hire_terminations using (employee_id)
),

final as (
    select {{ sim_year() }} as simulation_year, * from continuing
    union all
    select {{ sim_year() }} as simulation_year, * from joined
)

select * from final
