with source as (
    select * from {{ source('assumptions', 'vesting_schedules') }}
),

final as (
    -- Fractions become integer basis points once, half up (dc_plan 2.3).
    select schedule, service_years, {{ round_half_up('vested_fraction * 10000') }} as vested_bp
    from source
)

select * from final
