{#- R12: employer balances carried from Y-1 (or the census), vesting service and schedule, and what a leaver of Y
    takes (vested) or leaves behind (forfeited). No investment return in v1. -#}
{%- set year = var('simulation_year') -%}
{%- set census_date = "cast('" ~ var('census_date') ~ "' as date)" -%}
{%- set nra = var('plan_normal_retirement_age') -%}

with contributions as (
    select * from {{ ref('int_dc_limit_415') }}
),

-- depends_on: {{ ref('stg_vesting_schedules') }}
match_schedule as (
    {{ vesting_schedule('match') }}
),

core_schedule as (
    {{ vesting_schedule('core') }}
),

opening as (
{%- if year == var('start_year') %}
    -- Census balances; hours-based service starts at the completed years of service on the census date.
    select
        employee_id,
        {{ cents('employer_match_balance') }} as match_balance_boy_cents,
        {{ cents('employer_core_balance') }} as core_balance_boy_cents,
        {{ completed_years('employee_hire_date', census_date) }} as hours_service_years_boy
    from {{ ref('stg_census') }}
{%- else %}
    select
        employee_id,
        {{ cents('match_balance_eoy') }} as match_balance_boy_cents,
        {{ cents('core_balance_eoy') }} as core_balance_boy_cents,
        hours_service_years as hours_service_years_boy
    from {{ previous_year_relation('fct_dc_contributions') }}
    where simulation_year = {{ year - 1 }}
{%- endif %}
),

service as (
    select
        contributions.*,
        coalesce(opening.match_balance_boy_cents, 0) as match_balance_boy_cents,
        coalesce(opening.core_balance_boy_cents, 0) as core_balance_boy_cents,
        -- Elapsed time: completed years from hire to the termination date or Dec 31, day-exact.
        {{ completed_years('employee_hire_date', 'coalesce(termination_date, ' ~ year_end() ~ ')') }} as elapsed_service_years,
        -- Hours: one year of service for each plan year with at least 1,000 hours.
        coalesce(opening.hours_service_years_boy, 0)
            + case when {{ hours_times_10000('days_employed') }} >= 10000000 * days_in_year then 1 else 0 end
            as hours_service_years
    from contributions
    left join opening using (employee_id)
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
    asof left join match_schedule as match_steps on sourced.match_vesting_service_years >= match_steps.service_years
    asof left join core_schedule as core_steps on sourced.core_vesting_service_years >= core_steps.service_years
),

final as (
    select
        *,
        {%- for source in ['match', 'core'] %}
        case when termination_date is not null
             then {{ div_half_up(source ~ '_balance_cents * ' ~ source ~ '_vested_bp', '10000') }} else 0 end
            as {{ source }}_vested_cents,
        case when termination_date is not null
             then {{ source }}_balance_cents - {{ div_half_up(source ~ '_balance_cents * ' ~ source ~ '_vested_bp', '10000') }}
             else 0 end as {{ source }}_forfeited_cents,
        case when termination_date is not null then 0 else {{ source }}_balance_cents end as {{ source }}_balance_eoy_cents,
        {%- endfor %}
        {{ 'match_vesting_service_years' if var('plan_match_enabled') or not var('plan_core_enabled') else 'core_vesting_service_years' }}
            as vesting_service_years
    from vested
)

select * from final
