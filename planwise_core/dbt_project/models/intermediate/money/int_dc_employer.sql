{#- R6-R9: matchable deferral, the match (annual true-up and per payroll), allocation conditions and the core.
    Capped pay bases are exact fractions Ĉ = cnum / cden cents: min(C, L17) without rounding. -#}
{%- set year = var('simulation_year') -%}
{%- set calculation = var('plan_match_calculation') -%}
{%- set match_key = band_key(var('plan_match_graded_by')) -%}
{%- set core_key = band_key(var('plan_core_graded_by')) -%}

with deferrals as (
    -- depends_on: {{ ref('int_dc_comp_bases') }} (per-payroll matches read the segments)
    select * from {{ ref('int_dc_deferrals') }}
),

{%- if calculation != 'annual_true_up' %}

segments as (
    select * from {{ ref('int_dc_comp_bases') }}
),

per_payroll as (
    -- R8: G = sum over the match period of g(r) * s * days, g in bp x bp.
    select
        segments.employee_id,
        sum({{ match_by_band('rate', match_key, 'segments.deferral_bp') }} * segments.salary_cents * segments.days)
            as per_payroll_num
    from segments
    inner join deferrals using (employee_id)
    where segments.is_match_period
    group by segments.employee_id
),
{%- endif %}

bases as (
    select
        deferrals.*,
        {%- if calculation != 'annual_true_up' %}
        coalesce(per_payroll.per_payroll_num, 0) as per_payroll_num,
        {%- endif %}
        case when match_comp_num > limit_401a17_cents * days_in_year then limit_401a17_cents else match_comp_num end
            as match_cnum,
        case when match_comp_num > limit_401a17_cents * days_in_year then 1 else days_in_year end as match_cden,
        case when core_comp_num > limit_401a17_cents * days_in_year then limit_401a17_cents else core_comp_num end
            as core_cnum,
        case when core_comp_num > limit_401a17_cents * days_in_year then 1 else days_in_year end as core_cden,
        -- D_m: all of D when every deferral day is a match day, else its share of the deferral numerator.
        greatest(0, case
            when deferral_num = 0 then 0
            when match_deferral_num = deferral_num then deferral_cents
            else {{ div_half_up('deferral_cents * match_deferral_num', 'deferral_num') }}
        end {% if not var('plan_match_catch_up') %}- provisional_catch_up_cents{% endif %}) as matchable_deferral_cents,
        {{ sql_literal(var('plan_match_enabled')) }} and match_days > 0 as match_eligible,
        {{ sql_literal(var('plan_core_enabled')) }} and core_days > 0 as core_eligible,
        {{ allocation_met('match') }} as match_conditions_met,
        {{ allocation_met('core') }} as core_conditions_met
    from deferrals
    {%- if calculation != 'annual_true_up' %}
    left join per_payroll using (employee_id)
    {%- endif %}
),

formula as (
    select
        *,
        {{ div_half_up(match_by_band('amount', match_key, 'matchable_deferral_cents', 'match_cnum', 'match_cden'),
                       'match_cden * 100000000') }} as true_up_cents,
        {{ match_by_band('max', match_key, 'match_cnum', 'match_cden') }} as match_max_num,
        {%- if calculation != 'annual_true_up' %}
        -- M_pp = min(cap_dollars, f * sum F'(r_j, Ĉ_j)), f = min(1, D_m / sum r_j Ĉ_j): exact, k_m cancels when f < 1.
        case
            when match_deferral_num = 0 then 0
            when match_comp_num > limit_401a17_cents * days_in_year
                 and matchable_deferral_cents * 10000 * match_comp_num < limit_401a17_cents * match_deferral_num
                then {{ div_half_up('matchable_deferral_cents * per_payroll_num', 'match_deferral_num * 10000') }}
            when match_comp_num > limit_401a17_cents * days_in_year
                then {{ div_half_up('limit_401a17_cents * per_payroll_num', 'match_comp_num * 100000000') }}
            when matchable_deferral_cents * days_in_year * 10000 < match_deferral_num
                then {{ div_half_up('matchable_deferral_cents * per_payroll_num', 'match_deferral_num * 10000') }}
            else {{ div_half_up('per_payroll_num', 'days_in_year * 100000000') }}
        end as per_payroll_uncapped_cents,
        {%- endif %}
        {{ core_rate_by_band(core_key) }} as core_rate_bp
    from bases
),

amounts as (
    select
        *,
        {%- if calculation == 'annual_true_up' %}
        case when match_conditions_met then true_up_cents else 0 end as formula_match_cents,
        {%- else %}
        {%- set per_payroll = 'least(' ~ match_by_band('cap_dollars', match_key) ~ ', per_payroll_uncapped_cents)' %}
        {%- if calculation == 'per_pay_period' %}
        {{ per_payroll }} as formula_match_cents,
        {%- else %}
        -- per payroll, then the year-end true-up when the conditions are met: M_pp + max(0, M_tu - M_pp).
        case when match_conditions_met then greatest({{ per_payroll }}, true_up_cents) else {{ per_payroll }} end
            as formula_match_cents,
        {%- endif %}
        {%- endif %}
        case when core_eligible and core_conditions_met
             then {{ div_half_up('core_rate_bp * core_cnum', 'core_cden * 10000') }} else 0 end as core_cents
    from formula
),

matched as (
    select
        *,
        case when match_eligible and matchable_deferral_cents > 0 then formula_match_cents else 0 end as match_cents,
        case when match_eligible then true_up_cents else 0 end as match_true_up_cents
    from amounts
),

final as (
    select
        *,
        -- S of R10 step 1: deferral cents at which the match saturates; 0 for someone who gets no match.
        case when match_cents = 0 then 0
             else {{ match_by_band('saturation', match_key, 'match_max_num', 'match_cnum', 'match_cden') }} end
            as match_saturation_cents
    from matched
)

select * from final
