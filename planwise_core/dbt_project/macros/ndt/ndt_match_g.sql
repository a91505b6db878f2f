{#- The match rate g(r) of a deferral rate for a tier list, in bp x bp, capped by cap_pct_of_comp (docs/ndt.md N5). -#}
{% macro ndt_match_g(r, tiers, cap) -%}
{%- set ns = namespace(total=0, low=0) -%}
{%- for tier in tiers -%}
{%- set high = ndt_bp(tier['deferral_max']) -%}
{%- set ns.total = ns.total + ndt_bp(tier['rate']) * ([[r - ns.low, 0] | max, high - ns.low] | min) -%}
{%- set ns.low = high -%}
{%- endfor -%}
{{ return(ns.total if cap is none else [ns.total, ndt_bp(cap) * 10000] | min) }}
{%- endmacro %}
