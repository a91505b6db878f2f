{#- This year's hires: level by the new-hire mix (largest remainder), salary in the level's hiring range, age from the distribution. -#}

with requirements as (
    select * from {{ ref('int_workforce_requirements') }}
    where simulation_year = {{ sim_year() }}
),

job_levels as (
    select * from {{ ref('stg_job_levels') }}
),

age_distribution as (
    select
        age,
        sum(share) over (order by age) - share as cumulative_from,
        sum(share) over (order by age) as cumulative_to,
        max(age) over () as oldest_age
    from {{ ref('stg_new_hire_age_distribution') }}
),

level_quotas as (
    select
        job_levels.level_id,
        requirements.total_hires,
        requirements.total_hires * job_levels.new_hire_share as exact_quota,
        cast(floor(requirements.total_hires * job_levels.new_hire_share) as bigint) as floor_quota
    from job_levels
    cross join requirements
),

level_allocation as (
    select
        *,
        floor_quota + case when row_number() over (
            order by exact_quota - floor_quota desc, level_id
        ) <= total_hires - sum(floor_quota) over () then 1 else 0 end as level_hires
    from level_quotas
),

level_ranges as (
    select
        level_id,
        sum(level_hires) over (order by level_id) - level_hires as first_sequence_minus_one,
        sum(level_hires) over (order by level_id) as last_sequence
    from level_allocation
),

taken_ids as (
    -- Census ids shaped like this year's hire ids: a hire never takes one (docs/domain.md step 5).
    select employee_id from {{ ref('stg_census') }}
    where starts_with(employee_id, ('NH_' || cast({{ sim_year() }} as varchar) || '_'))
),

candidates as (
    select
        candidate_number,
        -- printf, not lpad: lpad would cut a seventh digit and repeat an earlier id.
        ('NH_' || cast({{ sim_year() }} as varchar) || '_') || printf('%06d', candidate_number) as employee_id
    from requirements
    cross join generate_series(1, requirements.total_hires + (select count(*) from taken_ids)) as s (candidate_number)
    where requirements.total_hires > 0
),

sequences as (
    -- The first total_hires candidates whose id is free, numbered 1..total_hires.
    select
        row_number() over (order by candidates.candidate_number) as sequence_number,
        candidates.employee_id
    from candidates
    left join taken_ids using (employee_id)
    where taken_ids.employee_id is null
    qualify row_number() over (order by candidates.candidate_number) <= (select total_hires from requirements)
),

drawn as (
    select
        sequences.*,
        level_ranges.level_id,
        cast({{ year_start() }} + to_days(cast(floor(
            {{ uniform_draw('sequences.employee_id', sim_year(), 'hire_date') }} * {{ days_in_year() }}
        ) as integer)) as date) as employee_hire_date,
        {{ uniform_draw('sequences.employee_id', sim_year(), 'hire_salary') }} as salary_draw,
        {{ uniform_draw('sequences.employee_id', sim_year(), 'hire_age') }} as age_draw,
        cast(floor({{ uniform_draw('sequences.employee_id', sim_year(), 'hire_birthday') }} * 365) as integer) as birthday_offset_days
    from sequences
    inner join level_ranges
        on sequences.sequence_number > level_ranges.first_sequence_minus_one
       and sequences.sequence_number <= level_ranges.last_sequence
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        drawn.employee_id,
        drawn.sequence_number,
        drawn.employee_hire_date,
        cast(drawn.employee_hire_date - to_years(age_distribution.age) - to_days(drawn.birthday_offset_days) as date)
            as employee_birth_date,
        age_distribution.age as hire_age,
        drawn.level_id,
        cast(round(job_levels.hire_min_salary
            + drawn.salary_draw * (job_levels.hire_max_salary - job_levels.hire_min_salary), 2) as decimal(18, 2))
            as compensation
    from drawn
    inner join job_levels using (level_id)
    inner join age_distribution
        on (drawn.age_draw >= age_distribution.cumulative_from and drawn.age_draw < age_distribution.cumulative_to)
        or (drawn.age_draw >= age_distribution.cumulative_to and age_distribution.age = age_distribution.oldest_age)
)

select * from final
