{#- R12: employer balances (carried from Y-1 or the census by int_dc_deferrals), vesting service and schedule, and
    what a leaver of Y takes (vested) or leaves behind (forfeited). No investment return in v1. -#}
{%- set nra = var('plan_normal_retirement_age') -%}

with limited as (
    select * from {{ ref('int_dc_limit_415') }}
),

-- depends_on: {{ ref('stg_vesting_schedules') }}
match_schedule as (
    {{ vesting_schedule('match') }}
),

core_schedule as (
    {{ vesting_schedule('core') }}
),

service as (
    select
        *,
        -- Elapsed time: completed years from hire to the termination date or Dec 31, day-exact.
        {{ completed_years('employee_hire_date', 'coalesce(termination_date, ' ~ year_end() ~ ')') }}
            as elapsed_service_years,
        -- Hours: one year of service for each plan year with at least 1,000 hours.
        hours_service_years_boy
            + case when {{ hours_times_10000('days_employed') }} >= cast(10000000 as bigint) * days_in_year then 1 else 0 end
            as hours_service_years
    from limited
),

sourced as (
    select
        *,
        {%- for source in ['match', 'core'] %}
        {{ 'hours_service_years' if var('plan_' ~ source ~ '_vesting_service_method') == 'hours' else 'elapsed_service_years' }}
            as {{ source }}_vesting_service_years,
        {%- endfor %}
        match_balance_boy_cents + final_match_cents as match_balance_cents,
        core_balance_boy_cents + final_core_cents as core_balance_cents
    from service
),

vested as (
    select
        sourced.*,
        {%- for source, steps in [('match', 'match_steps'), ('core', 'core_steps')] %}
        case
            when sourced.current_age >= {{ nra }} then 10000
            {%- if var('plan_' ~ source ~ '_vesting_schedule') == 'immediate' %}
            else 10000
            {%- else %}
            else coalesce({{ steps }}.vested_bp, 0)
            {%- endif %}
        end as {{ source }}_vested_bp{{ ',' if not loop.last }}
        {%- endfor %}
    from sourced
    left join match_schedule as match_steps on match_steps.service_years = least(sourced.match_vesting_service_years, 100)
    left join core_schedule as core_steps on core_steps.service_years = least(sourced.core_vesting_service_years, 100)
),

computed as (
    select
        *,
        {%- for source in ['match', 'core'] %}
        case when termination_date is not null
             then {{ div_half_up(source ~ '_balance_cents * ' ~ source ~ '_vested_bp', '10000', wide=false) }} else 0 end
            as {{ source }}_vested_cents,
        {%- endfor %}
        {{ 'match_vesting_service_years' if var('plan_match_enabled') or not var('plan_core_enabled') else 'core_vesting_service_years' }}
            as vesting_service_years
    from vested
),

final as (
    -- A leaver takes the vested part and forfeits the exact rest; a balance stays only with someone still employed.
    select
        *,
        case when termination_date is not null then match_balance_cents - match_vested_cents else 0 end
            as match_forfeited_cents,
        case when termination_date is not null then core_balance_cents - core_vested_cents else 0 end
            as core_forfeited_cents,
        case when termination_date is null then match_balance_cents else 0 end as match_balance_eoy_cents,
        case when termination_date is null then core_balance_cents else 0 end as core_balance_eoy_cents
    from computed
)

select * from final
