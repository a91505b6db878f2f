{#- R2a match response (docs/plan_money.md): census participants move their election toward m* on Jan 1 of the first year. -#}
{%- set year = var('simulation_year') -%}
{%- set first_day = "make_date(" ~ sim_year() ~ ", 1, 1)" -%}
{%- set active = var('plan_enabled') and var('plan_match_response_enabled') and year == var('start_year') -%}
{%- set age = completed_years('employee_birth_date', first_day) -%}
{%- set service = completed_years('employee_hire_date', first_day) -%}

with employment_year as (
    select * from {{ ref('int_employment_year') }}
),

participants as (
    select
        employee_id,
        {{ to_bp('deferral_rate') }} as rate_bp,
        {{ match_max_rate(band_key(var('plan_match_graded_by'), age, service)) }} as target_bp
    from employment_year
    where {{ sql_literal(active) }}
      and {{ employed_on(first_day) }}
      and is_enrolled
      and deferral_rate > 0
),

directed as (
    select
        *,
        case
            when rate_bp < target_bp and {{ sql_literal(var('plan_match_response_upward_enabled')) }} then 'upward'
            when target_bp > 0 and rate_bp > target_bp and {{ sql_literal(var('plan_match_response_downward_enabled')) }}
                then 'downward'
        end as direction
    from participants
),

drawn as (
    select
        *,
        {{ uniform_draw('employee_id', sim_year(), 'match_response') }} as respond_draw,
        {{ uniform_draw('employee_id', sim_year(), 'match_response_kind') }} as kind_draw
    from directed
    where direction is not null
),

responded as (
    {%- for name in ('upward', 'downward') %}
    {%- set prefix = 'plan_match_response_' ~ name ~ '_' %}
    {%- set step = div_half_up('abs(target_bp - rate_bp) * ' ~ to_bp(var(prefix ~ 'partial_factor')), 10000) %}
    select
        employee_id,
        direction,
        rate_bp,
        case
            when kind_draw < {{ var(prefix ~ 'maximize_share') }} then target_bp
            else rate_bp {{ '+' if name == 'upward' else '-' }} {{ step }}
        end as new_rate_bp
    from drawn
    where direction = '{{ name }}' and respond_draw < {{ var(prefix ~ 'probability') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        {{ first_day }} as effective_date,
        direction as event_category,
        {{ bp_to_rate('rate_bp') }} as previous_deferral_rate,
        {{ bp_to_rate('new_rate_bp') }} as deferral_rate
    from responded
    -- A partial step that rounds to nothing changes no election, so it is no event.
    where new_rate_bp <> rate_bp
)

select * from final
