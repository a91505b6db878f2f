{#- R10-R11: the 415(c) annual-additions limit and its correction, then the pre-tax / Roth split. -#}
{%- set year = var('simulation_year') -%}
{%- set match_key = band_key(var('plan_match_graded_by')) -%}
{%- set epcrs = var('plan_limit_415_correction_order') == 'epcrs' -%}
{%- set bisection_steps = 27 -%}{#- 2^27 cents = $1.3M, far above any 402(g) + catch-up limit -#}

with employer as (
    select
        *,
        {{ div_half_up('comp_num', 'days_in_year') }} as plan_comp_cents,
        least(limit_415c_cents, {{ div_half_up('comp_num', 'days_in_year') }}) as limit_415_cents
    from {{ ref('int_dc_employer') }}
),

checked as (
    select *, {{ excess_415('deferral_cents', 'match_cents', 'core_cents') }} as excess_cents
    from employer
),

{%- if epcrs %}

unmatched_refunded as (
    -- Step 1: unmatched deferrals (above the match's saturation point), regular dollars only; M stays.
    select
        *,
        deferral_cents - case when excess_cents > 0
            then least(greatest(0, deferral_cents - match_saturation_cents), excess_cents,
                       deferral_cents - {{ catch_up_415('deferral_cents', 'match_cents', 'core_cents') }})
            else 0 end as step1_deferral_cents
    from checked
),

after_step1 as (
    select *, {{ excess_415('step1_deferral_cents', 'match_cents', 'core_cents') }} as step1_excess_cents
    from unmatched_refunded
),

bisect_0 as (
    -- Step 2: the largest whole-cent deferral d <= step-1 deferral with (d - cu) + M(d) + K <= L, M(d) the match
    -- recomputed on d (a bisection: the additions grow with d).
    select *, cast(0 as hugeint) as low, cast(step1_deferral_cents as hugeint) as high
    from after_step1
    where step1_excess_cents > 0
),
{%- for i in range(1, bisection_steps + 1) %}
{%- set fits = excess_415('mid', 'mid_match', 'core_cents') ~ ' <= 0' %}

bisect_{{ i }} as (
    select * exclude (mid, mid_match) replace (
        case when {{ fits }} then mid else low end as low,
        case when {{ fits }} then high else mid - 1 end as high
    )
    from (
        select *, (low + high + 1) // 2 as mid, {{ match_for_deferral('((low + high + 1) // 2)', match_key) }} as mid_match
        from bisect_{{ i - 1 }}
    )
),
{%- endfor %}

matched_lowered as (
    select
        after_step1.*,
        coalesce(bisect_{{ bisection_steps }}.low, after_step1.step1_deferral_cents) as final_deferral_cents
    from after_step1
    left join bisect_{{ bisection_steps }} using (employee_id)
),

rematched as (
    select
        *,
        case when final_deferral_cents < step1_deferral_cents
             then {{ match_for_deferral('final_deferral_cents', match_key) }} else match_cents end as final_match_cents
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
    select *, core_cents - least(core_cents, greatest(0, excess_cents)) as final_core_cents
    from checked
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
            deferral_cents - {{ catch_up_415('deferral_cents', 'final_match_cents', 'final_core_cents') }})
            as final_deferral_cents
    from match_lowered
),
{%- endif %}

split as (
    select
        *,
        {{ catch_up_415('final_deferral_cents', 'final_match_cents', 'final_core_cents') }} as catch_up_cents,
        deferral_cents - final_deferral_cents as limit_415_refund_cents,
        final_deferral_cents < deferral_cents or final_match_cents < match_cents or final_core_cents < core_cents
            as reduced_415
    from corrected
),

final as (
    select
        *,
        final_deferral_cents - catch_up_cents as regular_deferral_cents,
        {%- if var('plan_roth_enabled') %}
        -- R11: the Roth catch-up rule makes all catch-up Roth; otherwise the configured share of each part.
        case when is_roth_catch_up_required then catch_up_cents
             else {{ div_half_up('catch_up_cents * ' ~ to_bp(var('plan_roth_share')), '10000') }} end
            + {{ div_half_up('(final_deferral_cents - catch_up_cents) * ' ~ to_bp(var('plan_roth_share')), '10000') }}
            as roth_cents
        {%- else %}
        cast(0 as hugeint) as roth_cents
        {%- endif %}
    from split
)

select * from final
