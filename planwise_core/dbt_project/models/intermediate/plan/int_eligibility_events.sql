{#- Plan eligibility reached this year while employed. -#}

with employment_year as (
    select * from {{ ref('int_employment_year') }}
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        eligibility_date as effective_date
    from employment_year
    where year(eligibility_date) = {{ sim_year() }}
      and {{ employed_on('eligibility_date') }}
)

select * from final
