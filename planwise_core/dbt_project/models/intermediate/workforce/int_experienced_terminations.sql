{#- Every experienced leaver: the retirees, then exactly the remaining quota of the others by hazard-weighted sampling. -#}

with workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

retirements as (
    select * from {{ ref('int_retirements') }}
),

requirements as (
    select * from {{ ref('int_workforce_requirements') }}
    where simulation_year = {{ sim_year() }}
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

weighted as (
    select
        workforce_start.employee_id,
        workforce_start.employee_hire_date,
        workforce_start.level_id,
        age_bands.termination_multiplier
            * tenure_bands.termination_multiplier
            * job_levels.termination_multiplier as hazard_weight,
        {{ uniform_draw('workforce_start.employee_id', sim_year(), 'termination') }} as selection_draw
    from workforce_start
    inner join job_levels using (level_id)
    inner join age_bands using (age_band_id)
    inner join tenure_bands using (tenure_band_id)
    anti join retirements using (employee_id)
),

ranked as (
    -- Efraimidis-Spirakis: keep the smallest -ln(u)/w, ties broken by employee_id.
    select
        *,
        row_number() over (
            order by -ln(greatest(selection_draw, 1e-300)) / hazard_weight, employee_id
        ) as selection_rank
    from weighted
),

hazard_terminations as (
    select
        {{ sim_year() }} as simulation_year,
        ranked.employee_id,
        ranked.level_id,
        ranked.hazard_weight,
        cast({{ year_start() }} + to_days(cast(floor(
            {{ uniform_draw('ranked.employee_id', sim_year(), 'termination_date') }} * {{ days_in_year() }}
        ) as integer)) as date) as termination_date,
        'experienced_termination' as termination_category
    from ranked
    cross join requirements
    where ranked.selection_rank <= requirements.hazard_terminations
),

final as (
    select * from hazard_terminations
    union all
    select
        simulation_year,
        employee_id,
        level_id,
        cast(null as double) as hazard_weight,
        termination_date,
        'retirement' as termination_category
    from retirements
)

select * from final
