{#- R6-R9: matchable deferral, the match (annual true-up and per payroll), allocation conditions and the core.
    Capped pay bases are exact fractions Ĉ = cnum / cden cents: min(C, L17) without rounding. -#}
{%- set calculation = var('plan_match_calculation') -%}
{%- set match_key = band_key(var('plan_match_graded_by')) -%}
{%- set core_key = band_key(var('plan_core_graded_by')) -%}
{%- set bigint_bound = match_bigint_bound() -%}

with deferrals as (
    select * from {{ ref('int_dc_deferrals') }}
),

bases as (
    select
        deferrals.*,
        case when match_comp_num > limit_401a17_cents * days_in_year then limit_401a17_cents else match_comp_num end
            as match_cnum,
        cast(case when match_comp_num > limit_401a17_cents * days_in_year then 1 else days_in_year end as bigint) as match_cden,
        case when core_comp_num > limit_401a17_cents * days_in_year then limit_401a17_cents else core_comp_num end
            as core_cnum,
        cast(case when core_comp_num > limit_401a17_cents * days_in_year then 1 else days_in_year end as bigint) as core_cden,
        -- D_m: all of D when every deferral day is a match day, else its share of the deferral numerator.
        greatest(0, case
            when deferral_num = 0 then 0
            when match_deferral_num = deferral_num then deferral_cents
            else {{ div_half_up('cast(deferral_cents as hugeint) * match_deferral_num', 'deferral_num') }}
        end {% if not var('plan_match_catch_up') %}- provisional_catch_up_cents{% endif %}) as matchable_deferral_cents,
        {{ sql_literal(var('plan_match_enabled')) }} and match_days > 0 as match_eligible,
        {{ sql_literal(var('plan_core_enabled')) }} and core_days > 0 as core_eligible,
        {{ allocation_met('match') }} as match_conditions_met,
        {{ allocation_met('core') }} as core_conditions_met
    from deferrals
),

formula as (
    select
        *,
        -- BIGINT where the bounds keep every product below 2^63 (match_bigint_bound), HUGEINT otherwise: same values.
        case when not (match_eligible and matchable_deferral_cents > 0) then 0
             {%- if bigint_bound > 0 %}
             when matchable_deferral_cents <= 100000000 and match_cnum <= {{ bigint_bound }}
             then {{ div_half_up(match_by_band('amount_bigint', match_key, 'matchable_deferral_cents', 'match_cnum', 'match_cden'),
                                 'match_cden * 100000000', wide=false) }}
             {%- endif %}
             else {{ div_half_up(match_by_band('amount', match_key, 'matchable_deferral_cents', 'match_cnum', 'match_cden'),
                                 'match_cden * 100000000') }}
        end as true_up_cents,
        {%- if calculation != 'annual_true_up' %}
        -- M_pp = min(cap_dollars, f * sum F'(r_j, Ĉ_j)), f = min(1, D_m / sum r_j Ĉ_j): exact, k_m cancels when f < 1.
        case
            when match_deferral_num = 0 or not match_eligible then 0
            when match_comp_num > limit_401a17_cents * days_in_year
                 and cast(matchable_deferral_cents as hugeint) * 10000 * match_comp_num
                     < cast(limit_401a17_cents as hugeint) * match_deferral_num
                then {{ div_half_up('cast(matchable_deferral_cents as hugeint) * per_payroll_num', 'cast(match_deferral_num as hugeint) * 10000') }}
            when match_comp_num > limit_401a17_cents * days_in_year
                then {{ div_half_up('cast(limit_401a17_cents as hugeint) * per_payroll_num', 'cast(match_comp_num as hugeint) * 100000000') }}
            when cast(matchable_deferral_cents as hugeint) * days_in_year * 10000 < match_deferral_num
                then {{ div_half_up('cast(matchable_deferral_cents as hugeint) * per_payroll_num', 'cast(match_deferral_num as hugeint) * 10000') }}
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
             then {{ div_half_up('core_rate_bp * core_cnum', 'core_cden * 10000', wide=false) }} else 0 end as core_cents
    from formula
),

final as (
    select
        * exclude (true_up_cents, formula_match_cents{% if calculation != 'annual_true_up' %}, per_payroll_uncapped_cents{% endif %}),
        true_up_cents as match_true_up_cents,
        case when match_eligible and matchable_deferral_cents > 0 then formula_match_cents else 0 end as match_cents
    from amounts
)

select * from final
