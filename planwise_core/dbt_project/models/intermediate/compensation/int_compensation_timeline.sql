{#- Every pay rate in force during the year, in order: the opening rate, then promotion and raise applied chronologically. -#}

with workforce_start as (
    select * from {{ ref('int_workforce_start') }}
),

hires as (
    select * from {{ ref('int_hires') }}
),

promotions as (
    select * from {{ ref('int_promotions') }}
),

raises as (
    select * from {{ ref('int_merit_raises') }}
),

opening as (
    select employee_id, {{ year_start() }} as effective_date, current_compensation as opening_rate, level_id
    from workforce_start
    union all
    select employee_id, employee_hire_date, compensation, level_id
    from hires
),

changes as (
    select
        opening.employee_id,
        opening.effective_date as opening_date,
        opening.opening_rate,
        opening.level_id,
        promotions.promotion_date,
        promotions.to_level as promoted_level,
        promotions.raise_rate as promotion_rate,
        raises.raise_date,
        raises.raise_rate as merit_rate,
        -- A promotion and a raise on the same day: the promotion comes first.
        promotions.promotion_date is not null
            and (raises.raise_date is null or promotions.promotion_date <= raises.raise_date) as is_promotion_first
    from opening
    left join promotions using (employee_id)
    left join raises using (employee_id)
),

first_step as (
    select
        *,
        case
            when is_promotion_first then cast(round(opening_rate * (1 + promotion_rate), 2) as decimal(18, 2))
            when raise_date is not null then cast(round(opening_rate * (1 + merit_rate), 2) as decimal(18, 2))
        end as first_rate
    from changes
),

second_step as (
    select
        *,
        case
            when is_promotion_first and raise_date is not null
                then cast(round(first_rate * (1 + merit_rate), 2) as decimal(18, 2))
            when not is_promotion_first and promotion_date is not null
                then cast(round(first_rate * (1 + promotion_rate), 2) as decimal(18, 2))
        end as second_rate
    from first_step
),

timeline as (
    select employee_id, opening_date as effective_date, 'opening' as change_type,
           cast(null as decimal(18, 2)) as previous_rate, opening_rate as rate,
           level_id as from_level, level_id as to_level
    from second_step
    union all
    select employee_id, promotion_date, 'promotion',
           case when is_promotion_first then opening_rate else first_rate end,
           case when is_promotion_first then first_rate else second_rate end,
           level_id, promoted_level
    from second_step
    where promotion_date is not null
    union all
    select employee_id, raise_date, 'raise',
           case when is_promotion_first then first_rate else opening_rate end,
           case when is_promotion_first then second_rate else first_rate end,
           case when promotion_date is not null and promotion_date <= raise_date then promoted_level else level_id end,
           case when promotion_date is not null and promotion_date <= raise_date then promoted_level else level_id end
    from second_step
    where raise_date is not null
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        *,
        row_number() over (
            partition by employee_id
            order by effective_date, case change_type when 'opening' then 0 when 'promotion' then 1 else 2 end
        ) as change_sequence
    from timeline
)

select * from final
