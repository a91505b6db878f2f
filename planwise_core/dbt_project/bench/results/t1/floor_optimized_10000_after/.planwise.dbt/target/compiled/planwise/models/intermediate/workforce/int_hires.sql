with requirements as (
    select * from "planwise"."main"."int_workforce_requirements"
    where simulation_year = 2027
),

job_levels as (
    select * from "planwise"."main"."stg_job_levels"
),

age_distribution as (
    select
        age,
        sum(share) over (order by age) - share as cumulative_from,
        sum(share) over (order by age) as cumulative_to,
        max(age) over () as oldest_age
    from "planwise"."main"."stg_new_hire_age_distribution"
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
    -- Census ids shaped like this year's hire ids: a hire never takes one (domain.md step 5).
    select employee_id from "planwise"."main"."stg_census"
    where starts_with(employee_id, 'NH_2027_')
),

candidates as (
    select
        candidate_number,
        -- printf, not lpad: lpad would cut a seventh digit and repeat an earlier id.
        'NH_2027_' || printf('%06d', candidate_number) as employee_id
    from requirements
    cross join generate_series(1, requirements.total_hires + (select count(*) from taken_ids)) as s(candidate_number)
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
        cast(make_date(2027, 1, 1) + to_days(cast(floor(
            (('0x' || left(sha256('42|' || sequences.employee_id || '|' || cast(2027 as varchar) || '|hire_date'), 16))::ubigint / 18446744073709551616.0) * (date_diff('day', make_date(2027, 1, 1), make_date(2027, 12, 31)) + 1)
        ) as integer)) as date) as employee_hire_date,
        (('0x' || left(sha256('42|' || sequences.employee_id || '|' || cast(2027 as varchar) || '|hire_salary'), 16))::ubigint / 18446744073709551616.0) as salary_draw,
        (('0x' || left(sha256('42|' || sequences.employee_id || '|' || cast(2027 as varchar) || '|hire_age'), 16))::ubigint / 18446744073709551616.0) as age_draw,
        cast(floor((('0x' || left(sha256('42|' || sequences.employee_id || '|' || cast(2027 as varchar) || '|hire_birthday'), 16))::ubigint / 18446744073709551616.0) * 365) as integer) as birthday_offset_days
    from sequences
    inner join level_ranges
        on sequences.sequence_number > level_ranges.first_sequence_minus_one
       and sequences.sequence_number <= level_ranges.last_sequence
),

final as (
    select
        2027 as simulation_year,
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