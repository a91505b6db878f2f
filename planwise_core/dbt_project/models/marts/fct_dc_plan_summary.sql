{{ config(tags=["money"], meta={"empty_unless": "plan_enabled"}) }}
{#- One row per year: exact sums of fct_dc_contributions, participation, the employer's cost and the forfeiture
    pool (docs/plan_rules.md R13-R14, 2.5). Ratios are rounded half up to 6 dp, the average deferral rate to 4 dp. -#}
{%- set year = var('simulation_year') -%}
{%- set use = var('plan_forfeitures_use') -%}

with contributions as (
    select * from {{ ref('fct_dc_contributions') }}
    where simulation_year = {{ sim_year() }}
),

snapshot as (
    select * from {{ ref('fct_workforce_snapshot') }}
    where simulation_year = {{ sim_year() }}
),

limits as (
    select * from {{ ref('int_irs_limits_by_year') }}
    where limit_year = {{ sim_year() }}
),

opening_pool as (
    -- The pool available in Y: the configured opening pool in the first year, then last year's closing pool.
{%- if year == var('start_year') %}
    select {{ cents_literal(var('plan_forfeitures_opening_pool')) }} as pool_cents,
           {{ cents_literal(var('plan_forfeitures_opening_pool')) }} = 0 as is_prior_unknown
{%- else %}
    select coalesce(max({{ cents('forfeiture_pool_eoy') }}), 0) as pool_cents, false as is_prior_unknown
    from {{ previous_year_relation('fct_dc_plan_summary') }}
    where simulation_year = ({{ sim_year() }} - 1)
{%- endif %}
),

people as (
    select
        contributions.*,
        snapshot.termination_date is null and snapshot.is_eligible as is_eligible_eoy,
        {{ cents('employee_deferral') }} as d_cents,
        {{ to_bp('deferral_rate_eoy') }} as eoy_bp
    from contributions
    inner join snapshot using (employee_id)
),

totals as (
    select
        count(*) as headcount,
        count(*) filter (where is_eligible_eoy) as eligible_eoy,
        count(*) filter (where is_eligible_eoy and eoy_bp > 0) as participants_eoy,
        count(*) filter (where d_cents > 0) as contributors,
        coalesce(sum(eoy_bp) filter (where is_eligible_eoy and eoy_bp > 0), 0) as participant_bp_sum,
        coalesce(sum(d_cents) filter (where d_cents > 0), 0) as contributor_deferral_cents,
        coalesce(sum(least({{ cents('deferral_comp') }}, {{ cents('comp_limit_401a17') }})) filter (where d_cents > 0), 0)
            as contributor_capped_comp_cents,
        {%- for column, total in [('employee_deferral', 'total_employee_deferrals'), ('pre_tax_deferral', 'total_pre_tax'),
                                  ('roth_deferral', 'total_roth'), ('catch_up_deferral', 'total_catch_up'),
                                  ('refunded_deferral', 'total_refunded'), ('employer_match', 'total_match'),
                                  ('employer_core', 'total_core'), ('employer_total', 'total_employer_gross'),
                                  ('forfeited_amount', 'forfeitures_generated'), ('plan_comp', 'payroll')] %}
        coalesce(sum({{ cents(column) }}), 0) as {{ total }}_cents,
        {%- endfor %}
        count(*) filter (where limit_402g_reached) as at_402g_limit_count,
        count(*) filter (where reduced_415) as reduced_415_count
    from people
),

pooled as (
    select
        totals.*,
        opening_pool.pool_cents,
        opening_pool.is_prior_unknown,
        {%- if use == 'reduce_employer_contributions' %}
        least(opening_pool.pool_cents, totals.total_employer_gross_cents) as applied_cents,
        {%- elif use == 'pay_expenses' %}
        opening_pool.pool_cents as applied_cents,
        {%- else %}
        0 as applied_cents,
        {%- endif %}
        {{ 'opening_pool.pool_cents' if use == 'reallocate_to_participants' else '0' }} as reallocated_cents
    from totals
    cross join opening_pool
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        headcount,
        eligible_eoy,
        participants_eoy,
        {{ ratio('participants_eoy', 'eligible_eoy') }} as participation_rate,
        contributors,
        case when participants_eoy > 0
             then cast({{ bp_to_rate(div_half_up('participant_bp_sum', 'participants_eoy')) }} as decimal(9, 4)) end
            as avg_deferral_rate,
        {{ ratio('contributor_deferral_cents', 'contributor_capped_comp_cents') }} as effective_deferral_rate,
        {%- for total in ['total_employee_deferrals', 'total_pre_tax', 'total_roth', 'total_catch_up', 'total_refunded',
                          'total_match', 'total_core', 'total_employer_gross', 'forfeitures_generated'] %}
        {{ dollars(total ~ '_cents') }} as {{ total }},
        {%- endfor %}
        {{ dollars('pool_cents') }} as forfeiture_pool_boy,
        case when not is_prior_unknown then {{ dollars('applied_cents') }} end as forfeitures_applied,
        {{ dollars('reallocated_cents') }} as forfeitures_reallocated,
        is_prior_unknown as forfeitures_prior_unknown,
        {{ dollars('pool_cents - applied_cents - reallocated_cents + forfeitures_generated_cents') }} as forfeiture_pool_eoy,
        {{ dollars('total_employer_gross_cents - applied_cents') }} as net_employer_cost,
        {{ dollars('payroll_cents') }} as payroll,
        {{ ratio('total_employer_gross_cents', 'payroll_cents') }} as employer_cost_pct_payroll,
        {{ ratio('total_employer_gross_cents - applied_cents', 'payroll_cents') }} as net_employer_cost_pct_payroll,
        at_402g_limit_count,
        {{ ratio('at_402g_limit_count', 'contributors') }} as at_402g_limit_share,
        reduced_415_count,
        limits.elective_deferral_402g,
        limits.catch_up_50,
        limits.catch_up_60_63,
        limits.compensation_401a17,
        limits.annual_additions_415c,
        limits.hce_414q,
        limits.roth_catch_up_wage_threshold,
        limits.ss_wage_base,
        limits.status as limits_status
    from pooled
    cross join limits
    where {{ sql_literal(var('plan_enabled')) }}
)

select * from final
