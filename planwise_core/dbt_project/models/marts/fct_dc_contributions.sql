{{ config(tags=["money"], meta={"empty_unless": "plan_enabled"}) }}
{#- One row per fct_workforce_snapshot row: the year's plan money of each employee (dc_plan 2.5). Money in
    DECIMAL(18,2) dollars holding the half-up cent value; rates and shares as fractions. -#}

with balances as (
    -- R3-R12 in one pass: each intermediate model is ephemeral and reads only the one before it.
    select * from {{ ref('int_dc_balances') }}
),

final as (
    select
        employee_id,
        {{ sim_year() }} as simulation_year,
        {{ dollars('plan_comp_cents') }} as plan_comp,
        {{ dollars(div_half_up('deferral_comp_num', 'days_in_year', wide=false)) }} as deferral_comp,
        {{ dollars(div_half_up('match_comp_num', 'days_in_year', wide=false)) }} as match_comp,
        {{ dollars(div_half_up('core_comp_num', 'days_in_year', wide=false)) }} as core_comp,
        {{ dollars('limit_401a17_cents') }} as comp_limit_401a17,
        deferral_comp_num > limit_401a17_cents * days_in_year and {{ sql_literal(var('plan_apply_401a17')) }}
            as comp_401a17_applied,
        current_age as age_dec31,
        current_tenure as service_years,
        {{ dollars(div_half_up(hours_times_10000('days_employed'), 'days_in_year * 100', wide=false)) }} as hours_estimated,
        {{ bp_to_rate('deferral_bp_boy') }} as deferral_rate_boy,
        {{ bp_to_rate('deferral_bp_eoy') }} as deferral_rate_eoy,
        escalated,
        {{ dollars('requested_cents') }} as requested_deferral,
        {{ dollars('elective_limit_cents') }} as elective_limit,
        {{ dollars('catch_up_limit_cents') }} as catch_up_limit,
        limit_402g_reached,
        {{ dollars('final_deferral_cents') }} as employee_deferral,
        {{ dollars('final_deferral_cents - roth_cents') }} as pre_tax_deferral,
        {{ dollars('roth_cents') }} as roth_deferral,
        {{ dollars('catch_up_cents') }} as catch_up_deferral,
        {{ dollars('eaca_refund_cents + limit_415_refund_cents') }} as refunded_deferral,
        match_eligible,
        {{ dollars('match_true_up_cents') }} as match_true_up_basis,
        {{ dollars('final_match_cents') }} as employer_match,
        core_eligible,
        {% if var('plan_core_enabled') %}{{ bp_to_rate('core_rate_bp') }}{% else %}cast(null as decimal(9, 6)){% endif %}
            as core_rate,
        {{ dollars('final_core_cents') }} as employer_core,
        {{ dollars('regular_deferral_cents + final_match_cents + final_core_cents') }} as annual_additions,
        {{ dollars('limit_415_cents') }} as limit_415,
        reduced_415,
        {{ dollars('final_match_cents + final_core_cents') }} as employer_total,
        {{ dollars('match_balance_boy_cents') }} as match_balance_boy,
        {{ dollars('match_balance_eoy_cents') }} as match_balance_eoy,
        {{ dollars('core_balance_boy_cents') }} as core_balance_boy,
        {{ dollars('core_balance_eoy_cents') }} as core_balance_eoy,
        vesting_service_years,
        {{ bp_to_rate('match_vested_bp') }} as vested_pct_match,
        {{ bp_to_rate('core_vested_bp') }} as vested_pct_core,
        {{ dollars('match_vested_cents + core_vested_cents') }} as vested_amount,
        {{ dollars('match_forfeited_cents + core_forfeited_cents') }} as forfeited_amount,
        is_hce,
        -- State carried to Y+1 (not a dc_plan 2.5 column): plan years with 1,000 hours, for hours-based vesting.
        hours_service_years
    from balances
)

select * from final
