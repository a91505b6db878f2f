{{ config(tags=["ndt"], meta={"empty_unless": "plan_ndt_enabled"}) }}
{#- One row per fct_workforce_snapshot row while NDT is on (docs/ndt.md, Outputs): HCE and key status, the ADP
    and ACP tests with their corrections, the core allocation rate and the top-heavy minimum. -#}
{%- set design = ndt_design() -%}

-- Materialized: the NDT chain is read five times below and must be computed once; only the columns read below
-- are kept (a wide materialized CTE costs its width in every row).
with acp as materialized (
    select
        employee_id, employee_birth_date, employee_hire_date, termination_date, lookback_cents, ownership_pct,
        is_officer, in_top_paid_group, is_hce, key_reason, is_key, is_former_key, statutory_entry_date,
        is_otherwise_excludable, is_eligible, deferral_balance_boy_cents, employer_balance_boy_cents, comp_cents,
        core_comp_cents, l17_cents, d_cents, cu_cents, m_cents, k_cents, vested_cents,
        adp_test_group, adp_comp_cents, adp_deferral_cents, adr_bp, adp_excess_cents, adp_recharacterized_cents,
        adp_distributed_cents, match_after_adp_cents,
        acp_eligible, acp_test_group, acp_comp_cents, acp_match_cents, acr_bp, acp_excess_cents, acp_distributed_cents
    from {{ ref('int_ndt_acp') }}
),

pay_of_year as (
    select employee_id, employee_birth_date, employee_hire_date, comp_cents as pay_cents, ownership_pct, is_officer
    from acp
)

select
    employee_id,
    {{ sim_year() }} as simulation_year,
    {{ dollars('lookback_cents') }} as lookback_comp,
    cast(ownership_pct as decimal(9, 6)) as ownership_pct,
    is_officer,
    in_top_paid_group,
    is_hce,
    case when ownership_pct > 0.05 then 'owner' when is_hce then 'compensation' end as hce_reason,
    is_key,
    key_reason,
    is_former_key,
    key_test_in_year,
    statutory_entry_date,
    is_otherwise_excludable,
    is_eligible as adp_eligible,
    adp_test_group,
    {{ dollars('adp_comp_cents') }} as adp_testing_comp,
    {{ dollars('adp_deferral_cents') }} as adp_deferrals,
    case when is_eligible then {{ bp_ratio('coalesce(adr_bp, case when adp_comp_cents > 0 then ' ~ div_half_up('10000 * adp_deferral_cents', 'adp_comp_cents', wide=false) ~ ' else 0 end)') }} end as adr,
    {{ dollars('adp_excess_cents') }} as adp_excess,
    {{ dollars('adp_recharacterized_cents') }} as adp_recharacterized,
    {{ dollars('adp_distributed_cents') }} as adp_distributed,
    {{ dollars('m_cents - match_after_adp_cents') }} as match_forfeited_adp,
    {{ dollars('match_after_adp_cents') }} as match_after_adp,
    acp_eligible,
    acp_test_group,
    {{ dollars('acp_comp_cents') }} as acp_testing_comp,
    {{ dollars('acp_match_cents') }} as acp_match,
    case when acp_eligible then {{ bp_ratio('coalesce(acr_bp, case when acp_comp_cents > 0 then ' ~ div_half_up('10000 * acp_match_cents', 'acp_comp_cents', wide=false) ~ ' else 0 end)') }} end as acr,
    {{ dollars('acp_excess_cents') }} as acp_excess,
    {{ dollars('acp_distributed_cents') }} as acp_distributed,
    {{ dollars('acp_excess_cents - acp_distributed_cents') }} as acp_forfeited,
    {{ dollars('adp_distributed_cents + acp_distributed_cents') }} as corrective_distribution,
    {{ dollars('m_cents - match_after_adp_cents + acp_excess_cents - acp_distributed_cents') }} as match_forfeited,
    {%- if var('plan_core_enabled') %}
    {{ bp_ratio('case when least(' ~ ('core_comp_cents' if var('plan_ndt_testing_compensation') == 'eligible_period' else 'comp_cents') ~ ', l17_cents) > 0 then '
                ~ div_half_up('10000 * k_cents', 'least(' ~ ('core_comp_cents' if var('plan_ndt_testing_compensation') == 'eligible_period' else 'comp_cents') ~ ', l17_cents)', wide=false) ~ ' else 0 end') }}
        as core_allocation_rate,
    {%- else %}
    cast(null as decimal(7, 4)) as core_allocation_rate,
    {%- endif %}
    {{ dollars('deferral_balance_boy_cents') }} as deferral_balance_boy,
    {{ dollars('case when termination_date is null then deferral_balance_boy_cents + d_cents else 0 end') }}
        as deferral_balance_eoy,
    {{ dollars('case when termination_date is null then 0 else deferral_balance_boy_cents + d_cents + vested_cents end') }}
        as th_distribution,
    {{ dollars('th_required_cents') }} as th_required,
    {{ dollars('th_employer_cents') }} as th_employer_contribution,
    {{ dollars('greatest(0, th_required_cents - th_employer_cents)') }} as th_shortfall
from (
    select
        acp.*,
        keys_of_year.key_reason is not null as key_test_in_year,
        case when top_heavy.owes_minimum and not acp.is_key and acp.is_eligible and acp.termination_date is null
             then {{ div_half_up('top_heavy.rate_num * least(acp.comp_cents, acp.l17_cents)', 'top_heavy.rate_den') }}
             else 0 end as th_required_cents,
        acp.m_cents - (acp.m_cents - acp.match_after_adp_cents) - acp.acp_excess_cents + acp.k_cents
            as th_employer_cents
    from acp
    left join ({{ ndt_key_test('pay_of_year', sim_year()) }}) as keys_of_year using (employee_id)
    cross join (
        select
            5 * balances.key_cents > 3 * balances.total_cents and not {{ sql_literal(design['top_heavy_exempt']) }}
                as owes_minimum,
            key_rate.rate_num,
            key_rate.rate_den
        from ({{ ndt_top_heavy_balances('(
            select employee_id, employee_hire_date, is_key, is_former_key,
                   deferral_balance_boy_cents + employer_balance_boy_cents as balance_cents
            from acp
        )') }}) as balances
        cross join ({{ ndt_key_rate('acp') }}) as key_rate
    ) as top_heavy
) as final
