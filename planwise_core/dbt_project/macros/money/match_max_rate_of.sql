{#- One formula's m* (bp, an integer computed at compile time): the top of the last paying tier, or the smallest rate at
    which the match reaches cap_pct_of_comp when that comes first; never above max_deferral_rate. -#}
{% macro match_max_rate_of(formula) -%}
{%- set ns = namespace(low=0, paid=0, best=0, capped=false) -%}
{%- set cap = (to_bp_value(formula['cap_pct_of_comp']) * 10000) if formula['cap_pct_of_comp'] is not none else none -%}
{%- for tier in formula['tiers'] -%}
{%- set high = to_bp_value(tier['deferral_max']) -%}
{%- set rate = to_bp_value(tier['rate']) -%}
{%- if not ns.capped and rate > 0 -%}
{%- if cap is not none and ns.paid + rate * (high - ns.low) >= cap -%}
{%- set ns.best = ns.low + ((cap - ns.paid + rate - 1) // rate) -%}
{%- set ns.capped = true -%}
{%- else -%}
{%- set ns.best = high -%}
{%- set ns.paid = ns.paid + rate * (high - ns.low) -%}
{%- endif -%}
{%- endif -%}
{%- set ns.low = high -%}
{%- endfor -%}
{{ [ns.best, to_bp_value(var('plan_max_deferral_rate'))] | min }}
{%- endmacro %}
