with workforce_start as (
    select * from "planwise"."main"."int_workforce_start"
),

terminations as (
    select * from "planwise"."main"."int_experienced_terminations"
),

hazard as (
    select * from "planwise"."main"."stg_promotion_hazard"
),

job_levels as (
    select * from "planwise"."main"."stg_job_levels"
),

age_bands as (
    select * from "planwise"."main"."stg_age_bands"
),

tenure_bands as (
    select * from "planwise"."main"."stg_tenure_bands"
),

candidates as (
    select
        workforce_start.employee_id,
        workforce_start.level_id,
        make_date(2027, hazard.effective_month, hazard.effective_day) as promotion_date,
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
      and workforce_start.level_id < 5
),

final as (
    select
        2027 as simulation_year,
        employee_id,
        promotion_date,
        level_id as from_level,
        level_id + 1 as to_level,
        -- A decimal rate, so the raised salary is exact decimal arithmetic rounded once to the cent.
        cast(min_raise + (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|promotion_raise'), 16))::ubigint / 18446744073709551616.0) * (max_raise - min_raise)
            as decimal(9, 6)) as raise_rate
    from candidates
    where (termination_date is null or termination_date >= promotion_date)
      and (('0x' || left(sha256('42|' || employee_id || '|' || cast(2027 as varchar) || '|promotion'), 16))::ubigint / 18446744073709551616.0) < promotion_probability
)

select * from final