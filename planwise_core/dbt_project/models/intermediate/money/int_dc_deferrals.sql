{#- R4-R5: requested deferral over the deferral-rate and salary timeline (401(a)(17) proportional), the 402(g)
    limit with the age catch-up, and the mandatory Roth catch-up rule; it also brings in the state carried
    from Y-1. One row per snapshot row. -#}
{%- set year = var('simulation_year') -%}
{%- set base_year = '(' ~ sim_year() ~ ' - 1)' -%}  {#- read in the first year only, where it is start_year - 1 #}

with snapshot as (
    -- plan.enabled: false leaves the year without money rows.
    select employee_id, employee_birth_date, employee_hire_date, termination_date, current_age, current_tenure,
           is_eligible, deferral_rate
    from {{ ref('fct_workforce_snapshot') }}
    where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_enabled')) }}
),

comp_bases as (
    select * from {{ ref('int_dc_comp_bases') }}
),

limits as (
    select * from {{ ref('int_irs_limits_by_year') }}
    where limit_year = {{ sim_year() }}
),

previous_limits as (
    select * from {{ ref('int_irs_limits_by_year') }}
    where limit_year = ({{ sim_year() }} - 1)
),

escalations as (
    select employee_id from {{ ref('fct_yearly_events') }}
    where simulation_year = {{ sim_year() }} and event_type = 'deferral_escalation'
),

prior_state as (
    -- What carries from Y-1 (docs/plan_rules.md R5, R12): last year's plan pay W(Y-1), the employer balances and the
    -- 1,000-hour years. In the first year: the census salary for the days employed in the base year, the census
    -- balances, and the completed years of service on the census date.
{%- if year == var('start_year') %}
    select
        employee_id,
        {{ div_half_up(cents('employee_gross_compensation') ~ " * (date_diff('day', greatest(employee_hire_date, "
            ~ year_start(base_year) ~ "), " ~ year_end(base_year) ~ ") + 1)", days_in_year(base_year), wide=false) }}
            as prior_wages_cents,
        {{ cents('employer_match_balance') }} as match_balance_boy_cents,
        {{ cents('employer_core_balance') }} as core_balance_boy_cents,
        {{ completed_years('employee_hire_date', sim_census_date()) }} as hours_service_years_boy
    from {{ ref('stg_census') }}
    where employee_hire_date <= {{ year_end(base_year) }}
{%- else %}
    select
        employee_id,
        {{ cents('plan_comp') }} as prior_wages_cents,
        {{ cents('match_balance_eoy') }} as match_balance_boy_cents,
        {{ cents('core_balance_eoy') }} as core_balance_boy_cents,
        hours_service_years as hours_service_years_boy
    from {{ previous_year_relation('fct_dc_contributions') }}
    where simulation_year = ({{ sim_year() }} - 1)
{%- endif %}
),

based as (
    select
        snapshot.employee_id,
        snapshot.employee_birth_date,
        snapshot.employee_hire_date,
        snapshot.termination_date,
        snapshot.current_age,
        snapshot.current_tenure,
        snapshot.is_eligible,
        cast({{ days_in_year() }} as bigint) as days_in_year,
        comp_bases.* exclude (employee_id),
        limits.elective_deferral_402g * 100 as limit_402g_cents,
        limits.compensation_401a17 * 100 as limit_401a17_cents,
        limits.annual_additions_415c * 100 as limit_415c_cents,
        limits.status as limits_status,
        {{ to_bp('snapshot.deferral_rate') }} as deferral_bp_eoy,
        escalations.employee_id is not null as escalated,
        prior_state.prior_wages_cents,
        prior_state.prior_wages_cents > previous_limits.hce_414q * 100 as is_hce,
        coalesce(prior_state.match_balance_boy_cents, 0) as match_balance_boy_cents,
        coalesce(prior_state.core_balance_boy_cents, 0) as core_balance_boy_cents,
        coalesce(prior_state.hours_service_years_boy, 0) as hours_service_years_boy,
        -- Catch-up limit by Dec 31 age (R5); the ages 60-63 amount from 2025.
        case
            when not {{ sql_literal(var('plan_catch_up')) }} then 0
            when {{ sql_literal(var('plan_super_catch_up')) }} and {{ sim_year() }} >= 2025 and snapshot.current_age between 60 and 63
                then limits.catch_up_60_63 * 100
            when snapshot.current_age >= 50 then limits.catch_up_50 * 100
            else 0
        end as age_catch_up_cents,
        {{ sim_year() }} >= 2026 and {{ sql_literal(var('plan_mandatory_roth_catch_up')) }}
            and coalesce(prior_state.prior_wages_cents > limits.roth_catch_up_wage_threshold * 100, false)
            as is_roth_catch_up_required
    from snapshot
    inner join comp_bases using (employee_id)
    cross join limits
    left join previous_limits on true
    left join escalations using (employee_id)
    left join prior_state using (employee_id)
),

requested as (
    -- D_req = k_def * sum of r * s / N, k_def = min(1, L17 / C_def): one half-up division of exact numerators.
    select
        *,
        {%- for prefix in ['', 'gross_'] %}
        case
            when {{ prefix }}deferral_num = 0 then 0
            when {{ sql_literal(var('plan_apply_401a17')) }} and {{ prefix }}deferral_comp_num > limit_401a17_cents * days_in_year
                then {{ div_half_up('cast(' ~ prefix ~ 'deferral_num as hugeint) * limit_401a17_cents',
                                  'cast(' ~ prefix ~ 'deferral_comp_num as hugeint) * 10000') }}
            else {{ div_half_up(prefix ~ 'deferral_num', 'days_in_year * 10000', wide=false) }}
        end as {{ prefix }}requested_cents,
        {%- endfor %}
        -- The Roth catch-up rule without Roth in the plan takes the catch-up away.
        case when is_roth_catch_up_required and not {{ sql_literal(var('plan_roth_enabled')) }} then 0
             else age_catch_up_cents end as catch_up_limit_cents
    from based
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        employee_id,
        employee_hire_date,
        termination_date,
        current_age,
        current_tenure,
        days_in_year,
        days_employed,
        match_days,
        core_days,
        comp_num,
        deferral_comp_num,
        match_comp_num,
        core_comp_num,
        deferral_num,
        match_deferral_num,
        {%- if var('plan_match_calculation') != 'annual_true_up' %}
        per_payroll_num,
        {%- endif %}
        limit_402g_cents,
        limit_401a17_cents,
        limit_415c_cents,
        limits_status,
        deferral_bp_boy,
        deferral_bp_eoy,
        escalated,
        prior_wages_cents,
        is_hce,
        match_balance_boy_cents,
        core_balance_boy_cents,
        hours_service_years_boy,
        is_roth_catch_up_required,
        catch_up_limit_cents,
        requested_cents,
        greatest(0, gross_requested_cents - requested_cents) as eaca_refund_cents,
        limit_402g_cents + catch_up_limit_cents as elective_limit_cents,
        least(requested_cents, limit_402g_cents + catch_up_limit_cents) as deferral_cents,
        requested_cents >= limit_402g_cents + catch_up_limit_cents as limit_402g_reached,
        greatest(0, least(requested_cents, limit_402g_cents + catch_up_limit_cents) - limit_402g_cents)
            as provisional_catch_up_cents
    from requested
)

select * from final
