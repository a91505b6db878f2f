{#- R10-R11: the 415(c) annual-additions limit and its correction, then the pre-tax / Roth split. Each step is a
    column of the same row; the correction runs only for people above the limit. -#}
{%- set match_key = band_key(var('plan_match_graded_by')) -%}
{%- set epcrs = var('plan_limit_415_correction_order') == 'epcrs' -%}

with employer as (
    select * from {{ ref('int_dc_employer') }}
),

checked as (
    select
        *,
        {{ div_half_up('comp_num', 'days_in_year', wide=false) }} as plan_comp_cents,
        least(limit_415c_cents, {{ div_half_up('comp_num', 'days_in_year', wide=false) }}) as limit_415_cents
    from employer
),

with_catch_up as (
    -- The catch-up part, once, before any correction: steps below lower the regular part only.
    select *, {{ catch_up_415('deferral_cents', 'match_cents', 'core_cents') }} as catch_up_cents
    from checked
),

excess as (
    select *, {{ excess_415('deferral_cents', 'match_cents', 'core_cents') }} > 0 as is_over_limit
    from with_catch_up
),
{%- if epcrs %}

unmatched_refunded as (
    -- Step 1: unmatched regular deferrals, R - S (S: the deferral at which the match saturates; 0 without a
    -- match); the catch-up is not an annual addition and stays; M stays.
    select
        *,
        case when is_over_limit then deferral_cents - least(
            greatest(0, deferral_cents - catch_up_cents - case when match_cents = 0 then 0 else
                {{ match_by_band('saturation', match_key, match_by_band('max', match_key, 'match_cnum', 'match_cden'),
                                 'match_cnum', 'match_cden') }} end),
            {{ excess_415('deferral_cents', 'match_cents', 'core_cents') }})
        else deferral_cents end as step1_deferral_cents
    from excess
),

matched_lowered as (
    -- Step 2: matched deferrals and their match, down to the largest deferral that fits.
    select
        *,
        case when is_over_limit and {{ excess_415('step1_deferral_cents', 'match_cents', 'core_cents') }} > 0
             then {{ largest_deferral_within_415('step1_deferral_cents', match_key) }}
             else step1_deferral_cents end as final_deferral_cents
    from unmatched_refunded
),

rematched as (
    select
        *,
        case when final_deferral_cents < step1_deferral_cents then {{ match_for_deferral('final_deferral_cents', match_key) }}
             else match_cents end as final_match_cents
    from matched_lowered
),

corrected as (
    -- Step 3: the core takes what is left of the excess.
    select
        *,
        core_cents - least(core_cents, greatest(0,
            {{ excess_415('final_deferral_cents', 'final_match_cents', 'core_cents') }})) as final_core_cents
    from rematched
),
{%- else %}

core_lowered as (
    -- employer_first: core, then match, then deferrals; the excess is recomputed after each step.
    select
        *,
        core_cents - least(core_cents, greatest(0, {{ excess_415('deferral_cents', 'match_cents', 'core_cents') }}))
            as final_core_cents
    from excess
),

match_lowered as (
    select
        *,
        match_cents - least(match_cents, greatest(0,
            {{ excess_415('deferral_cents', 'match_cents', 'final_core_cents') }})) as final_match_cents
    from core_lowered
),

corrected as (
    select
        *,
        deferral_cents - least(
            greatest(0, {{ excess_415('deferral_cents', 'final_match_cents', 'final_core_cents') }}),
            deferral_cents - catch_up_cents)
            as final_deferral_cents
    from match_lowered
),
{%- endif %}

final as (
    select
        *,
        final_deferral_cents - catch_up_cents as regular_deferral_cents,
        {%- if var('plan_roth_enabled') %}
        -- R11: the Roth catch-up rule makes all catch-up Roth; otherwise the configured share of each part.
        case when is_roth_catch_up_required then catch_up_cents
             else {{ div_half_up('catch_up_cents * ' ~ to_bp(var('plan_roth_share')), '10000', wide=false) }} end
            + {{ div_half_up('(final_deferral_cents - catch_up_cents) * ' ~ to_bp(var('plan_roth_share')), '10000', wide=false) }}
            as roth_cents,
        {%- else %}
        cast(0 as bigint) as roth_cents,
        {%- endif %}
        deferral_cents - final_deferral_cents as limit_415_refund_cents,
        final_deferral_cents < deferral_cents or final_match_cents < match_cents or final_core_cents < core_cents
            as reduced_415
    from corrected
)

select * from final
