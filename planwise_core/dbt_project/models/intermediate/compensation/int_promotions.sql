{#- Promotion decisions: tenure >= 1, below the table's top level, employed on the promotion date, u < hazard.
    A promotion goes to the next level of the job-level table in force (docs/assumptions.md). -#}

with workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

terminations as (
    select * from {{ ref('int_experienced_terminations') }}
),

hazard as (
    select * from {{ ref('stg_promotion_hazard') }}
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

candidates as (
    select
        workforce_start.employee_id,
        workforce_start.level_id,
        job_levels.next_level_id,
        make_date({{ sim_year() }}, hazard.effective_month, hazard.effective_day) as promotion_date,
        hazard.base_rate
            * age_bands.promotion_multiplier
            * tenure_bands.promotion_multiplier
            * job_levels.promotion_multiplier as promotion_probability,
        hazard.min_raise,
        hazard.max_raise,
        terminations.termination_date
    from workforce_start
    cross join hazard
    inner join job_levels using (level_id)
    inner join age_bands using (age_band_id)
    inner join tenure_bands using (tenure_band_id)
    left join terminations using (employee_id)
    where workforce_start.current_tenure >= 1
      and job_levels.next_level_id is not null
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        promotion_date,
        level_id as from_level,
        next_level_id as to_level,
        -- A decimal rate, so the raised salary is exact decimal arithmetic rounded once to the cent.
        cast(min_raise + {{ uniform_draw('employee_id', sim_year(), 'promotion_raise') }} * (max_raise - min_raise)
            as decimal(9, 6)) as raise_rate
    from candidates
    where (termination_date is null or termination_date >= promotion_date)
      and {{ uniform_draw('employee_id', sim_year(), 'promotion') }} < promotion_probability
)

select * from final
