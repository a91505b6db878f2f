{#- The match recomputed for a lowered deferral d (R10 step 2): F of its matchable part, never above the match paid. -#}
{% macro match_for_deferral(d, key) -%}
{%- set matchable -%}
greatest(0, case when deferral_num = 0 then 0 when match_deferral_num = deferral_num then ({{ d }})
                 else {{ div_half_up('cast(' ~ d ~ ' as hugeint) * match_deferral_num', 'deferral_num') }} end
         {%- if not var('plan_match_catch_up') %} - greatest(0, ({{ d }}) - limit_402g_cents){% endif %})
{%- endset -%}
least(match_cents, {{ div_half_up(match_by_band('amount', key, matchable, 'match_cnum', 'match_cden'), 'match_cden * 100000000') }})
{%- endmacro %}
