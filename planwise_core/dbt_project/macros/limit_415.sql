{#- R10: the catch-up part of deferral d given match m and core k: the part of d above the lower of the 402(g)
    limit and the 415 room left by the employer money (never more than the catch-up limit). Computed once, on the
    amounts before the correction: catch-up is not an annual addition, so the correction never lowers it
    (docs/plan_money.md). -#}
{% macro catch_up_415(d, m, k) -%}
least(catch_up_limit_cents, greatest(0, ({{ d }}) - least(limit_402g_cents, greatest(0, limit_415_cents - ({{ m }}) - ({{ k }})))))
{%- endmacro %}

{#- R10: annual additions above the 415 limit, (d - cu) + m + k - L (positive means too much); cu is the row's
    catch_up_cents, fixed before the correction. -#}
{% macro excess_415(d, m, k) -%}
(({{ d }}) - catch_up_cents + ({{ m }}) + ({{ k }}) - limit_415_cents)
{%- endmacro %}

{#- The match recomputed for a lowered deferral d (R10 step 2): F of its matchable part, never above the match paid. -#}
{% macro match_for_deferral(d, key) -%}
{%- set matchable -%}
greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then ({{ d }})
                 else {{ div_half_up('cast(' ~ d ~ ' as hugeint) * match_deferral_num', 'deferral_num') }} end
         {%- if not var('plan_match_catch_up') %} - greatest(0, ({{ d }}) - limit_402g_cents){% endif %})
{%- endset -%}
least(match_cents, {{ div_half_up(match_by_band('amount', key, matchable, 'match_cnum', 'match_cden'), 'match_cden * 100000000') }})
{%- endmacro %}

{#- R10 step 2: the largest whole-cent deferral d in [cu, high] with (d - cu) + M(d) + K <= L, M(d) the match
    recomputed on d; cu itself when none fits (the regular part goes to 0, the catch-up stays). A bisection of 27
    steps (2^27 cents = $1.3M, far above any 402(g) + catch-up limit) run as one list_reduce; the accumulator packs
    low * 2^32 + high. -#}
{% macro largest_deferral_within_415(high, key) -%}
{%- set low = '(acc // 4294967296)' -%}
{%- set top = '(acc % 4294967296)' -%}
{%- set mid = '((' ~ low ~ ' + ' ~ top ~ ' + 1) // 2)' -%}
(list_reduce(range(27), (acc, step) ->
    case when {{ excess_415(mid, match_for_deferral(mid, key), 'core_cents') }} <= 0
         then {{ mid }} * 4294967296 + {{ top }}
         else {{ low }} * 4294967296 + {{ mid }} - 1 end,
    cast(catch_up_cents * 4294967296 + ({{ high }}) as bigint)) // 4294967296)
{%- endmacro %}
