{#- g(r) of docs/plan_rules.md R8 in bp x bp: the per-payroll match rate for a deferral rate r (bp), with the percent cap. -#}
{% macro match_rate_g(rate_bp, formula) -%}
{%- set parts = [] -%}
{%- set ns = namespace(low='0') -%}
{%- for tier in formula['tiers'] -%}
{%- set high = to_bp(tier['deferral_max']) -%}
{%- do parts.append(to_bp(tier['rate']) ~ ' * least(greatest(' ~ rate_bp ~ ' - (' ~ ns.low ~ '), 0), (' ~ high ~ ') - ('
                    ~ ns.low ~ '))') -%}
{%- set ns.low = high -%}
{%- endfor -%}
{%- if formula['cap_pct_of_comp'] is not none -%}
least(cast({{ parts | join(' + ') }} as hugeint), {{ to_bp(formula['cap_pct_of_comp']) }} * 10000)
{%- else -%}
cast({{ parts | join(' + ') }} as hugeint)
{%- endif -%}
{%- endmacro %}
