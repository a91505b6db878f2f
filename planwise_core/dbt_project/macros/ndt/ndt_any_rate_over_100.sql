{#- Some tier rate of any match band above 100 %: the disproportionate-match limit of N11 can bind. -#}
{% macro ndt_any_rate_over_100() -%}
{%- set ns = namespace(over=false) -%}
{%- for formula in match_formulas() -%}{%- for tier in formula['tiers'] -%}
{%- if (tier['rate'] | float) > 1 -%}{%- set ns.over = true -%}{%- endif -%}
{%- endfor -%}{%- endfor -%}
{{ return(ns.over) }}
{%- endmacro %}
