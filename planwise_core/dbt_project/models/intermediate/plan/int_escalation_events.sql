{#- R2 auto-escalation: one deferral_escalation on E_Y for each enrolled person below the cap who qualifies. -#}
{%- set year = var('simulation_year') -%}
{%- set mmdd = var('plan_escalation_effective_mmdd').split('-') -%}
{%- set escalation_day = "make_date(" ~ sim_year() ~ ", " ~ (mmdd[0] | int) ~ ", " ~ (mmdd[1] | int) ~ ")" -%}
{%- set census_date = sim_census_date() -%}
{%- set cutoff = var('plan_escalation_hire_date_cutoff') -%}
{%- set enabled = var('plan_enabled') and var('plan_escalation_enabled') -%}
{%- set auto_only = var('plan_escalation_scope') == 'auto_enrolled_only' -%}

with employment_year as (
    select * from {{ ref('int_employment_year') }}
),

enrollment_events as (
    select * from {{ ref('int_enrollment_events') }}
),

census as (
    select * from {{ ref('stg_census') }}
),

match_responses as (
    select * from {{ ref('int_match_response_events') }}
),

year_enrollments as (
    select employee_id, effective_date, event_category, deferral_rate
    from enrollment_events
    where event_type = 'enrollment'
),

year_opt_outs as (
    select employee_id, effective_date
    from enrollment_events
    where event_type = 'opt_out'
),

earlier_auto_enrollments as (
{%- if auto_only and year > var('start_year') %}
    select distinct employee_id
    from {{ previous_year_relation('fct_yearly_events') }}
    where simulation_year < {{ sim_year() }} and event_type = 'enrollment' and event_category = 'auto'
{%- else %}
    select cast(null as varchar) as employee_id where false
{%- endif %}
),

on_escalation_day as (
    -- The rate in force on E_Y: same-day enrollments come before the escalation, same-day opt-outs after it.
    select
        employment_year.employee_id,
        employment_year.employee_hire_date,
        employment_year.termination_date,
        coalesce(year_enrollments.effective_date, employment_year.enrollment_date) as enrollment_date,
        year_enrollments.event_category = 'auto' or earlier_auto_enrollments.employee_id is not null as is_auto_enrolled,
        coalesce(census.auto_escalation_opt_out, false) as has_census_opt_out,
        case
            when year_opt_outs.effective_date < {{ escalation_day }} then 0
            when year_enrollments.effective_date <= {{ escalation_day }} then {{ to_bp('year_enrollments.deferral_rate') }}
            when year_enrollments.employee_id is not null then 0
            -- A match response (Jan 1 of the first year) comes before any escalation: it builds on the new rate.
            when match_responses.effective_date <= {{ escalation_day }} then {{ to_bp('match_responses.deferral_rate') }}
            when employment_year.is_enrolled then {{ to_bp('employment_year.deferral_rate') }}
            else 0
        end as rate_bp
    from employment_year
    left join year_enrollments using (employee_id)
    left join year_opt_outs using (employee_id)
    left join earlier_auto_enrollments using (employee_id)
    left join census using (employee_id)
    left join match_responses using (employee_id)
),

timed as (
    select
        *,
        -- Census participants count as enrolled in the base year (docs/plan_rules.md R2).
        case when enrollment_date <= {{ census_date }} then year({{ census_date }}) else year(enrollment_date) end
            as enrollment_year
    from on_escalation_day
),

eligible as (
    select
        *,
        -- The permanent opt-out is drawn once, keyed by the first year the enrollment delay allows escalation.
        greatest({{ sim_start_year() }}, enrollment_year + {{ var('plan_escalation_first_delay_years') }}) as draw_year
    from timed
    where {{ employed_on(escalation_day) }}
      and rate_bp > 0
      and rate_bp < {{ to_bp(var('plan_escalation_cap')) }}
      and {{ sim_year() }} - enrollment_year >= {{ var('plan_escalation_first_delay_years') }}
      {%- if auto_only %}
      and is_auto_enrolled
      {%- endif %}
      {%- if cutoff %}
      and employee_hire_date >= cast('{{ cutoff }}' as date)
      {%- endif %}
      and not has_census_opt_out
      and {{ sql_literal(enabled) }}
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        {{ escalation_day }} as effective_date,
        'auto_escalation' as event_category,
        {{ bp_to_rate('rate_bp') }} as previous_deferral_rate,
        {{ bp_to_rate("least(" ~ to_bp(var('plan_escalation_cap')) ~ ", rate_bp + " ~ to_bp(var('plan_escalation_increment')) ~ ")") }}
            as deferral_rate
    from eligible
    {%- if var('plan_escalation_opt_out_rate') > 0 %}
    where {{ uniform_draw('employee_id', 'draw_year', 'escalation_opt_out') }} >= {{ var('plan_escalation_opt_out_rate') }}
    {%- endif %}
)

select * from final
