with source as (
    select * from {{ source('raw', 'census') }}
),

final as (
    select
        employee_id,
        employee_birth_date,
        employee_hire_date,
        employee_termination_date,
        cast(employee_gross_compensation as decimal(18, 2)) as employee_gross_compensation,
        cast(coalesce(employee_deferral_rate, 0) as decimal(9, 6)) as employee_deferral_rate,
        level_id,
        employer_match_balance,
        employer_core_balance,
        auto_escalation_opt_out,
        ownership_pct,
        is_officer,
        employee_deferral_balance
    from source
)

select * from final
