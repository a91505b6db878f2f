{#- The census as the host loaded it: typed once, in census/load.py (money DECIMAL(18, 2), rates DECIMAL(9, 6), a
    missing deferral rate 0), so staging only selects it. -#}
with source as (
    select * from {{ source('raw', 'census') }}
),

final as (
    select
        employee_id,
        employee_birth_date,
        employee_hire_date,
        employee_termination_date,
        employee_gross_compensation,
        employee_deferral_rate,
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
