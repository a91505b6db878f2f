{#- Actives at the census date: the start population of the first simulated year. -#}
{%- set census_date = sim_census_date() -%}

with census as (
    select * from {{ ref('stg_census') }}
),

job_levels as (
    select * from {{ ref('stg_job_levels') }}
),

age_bands as (
    select * from {{ ref('stg_age_bands') }}
),

tenure_bands as (
    select * from {{ ref('stg_tenure_bands') }}
),

actives as (
    select
        census.*,
        {{ completed_years('employee_birth_date', census_date) }} as current_age,
        {{ completed_years('employee_hire_date', census_date) }} as current_tenure,
        -- The census carries no enrollment date: participants count as enrolled since they became eligible
        -- by the plan's rules, or since the census date when those rules say later (docs/domain.md step 8).
        case when employee_deferral_rate > 0 then least(
            {{ eligibility_date('employee_birth_date', 'employee_hire_date') }}, {{ census_date }}
        ) end as enrollment_date
    from census
    where employee_termination_date is null
       or employee_termination_date > {{ census_date }}
),

final as (
    select
        actives.employee_id,
        actives.employee_birth_date,
        actives.employee_hire_date,
        coalesce(actives.level_id, job_levels.level_id) as level_id,
        actives.employee_gross_compensation as current_compensation,
        actives.current_age,
        actives.current_tenure,
        age_bands.age_band,
        tenure_bands.tenure_band,
        {{ eligibility_date('actives.employee_birth_date', 'actives.employee_hire_date', 'actives.enrollment_date') }}
            as eligibility_date,
        {{ eligibility_date('actives.employee_birth_date', 'actives.employee_hire_date', 'actives.enrollment_date') }}
            <= {{ census_date }} as is_eligible,
        actives.employee_deferral_rate > 0 as is_enrolled,
        actives.enrollment_date,
        actives.employee_deferral_rate as deferral_rate,
        false as ever_opted_out
    from actives
    left join job_levels
        on actives.employee_gross_compensation >= job_levels.min_salary
       and (job_levels.max_salary is null or actives.employee_gross_compensation < job_levels.max_salary)
    {{ join_bands('actives') }}
)

select * from final
