{#- The largest matchable-pay numerator (cnum, cents or cent-days) for which match_formula in BIGINT cannot overflow,
    for every formula in force, with a matchable deferral of at most 10^8 cents ($1M) and cden at most 366; 0 when
    some formula's dollar cap is too large for BIGINT. Each tier's product is at most rate·(hi − lo)·cnum (bp·bp),
    the percent cap 10^8·cnum, the dollar cap cents·366·10^8, each bound term lo·cnum at most 10^4·cnum; the half-up division doubles the
    numerator. -#}
{% macro match_bigint_bound() -%}
{%- set room = 2 ** 62 - 10 ** 12 -%}
{%- set ns = namespace(bound=room) -%}
{%- for formula in match_formulas() -%}
{%- set tiers = namespace(low=0, sum=1) -%}
{%- for tier in formula['tiers'] -%}
{%- set high = to_bp_value(tier['deferral_max']) -%}
{%- set tiers.sum = tiers.sum + to_bp_value(tier['rate']) * ([high - tiers.low, 0] | max) -%}
{%- set tiers.low = high -%}
{%- endfor -%}
{%- set widest = [tiers.sum, 10 ** 5, 10 ** 8 if formula['cap_pct_of_comp'] is not none else 1] | max -%}
{%- if formula['cap_dollars'] is not none and formula['cap_dollars'] > 1000000 -%}
{%- set ns.bound = 0 -%}
{%- else -%}
{%- set ns.bound = [ns.bound, room // widest] | min -%}
{%- endif -%}
{%- endfor -%}
{%- do return(ns.bound) -%}
{%- endmacro %}
