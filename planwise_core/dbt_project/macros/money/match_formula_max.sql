{#- F(∞, Ĉ): every tier full, then the caps; same units. -#}
{% macro match_formula_max(cnum, cden, formula) -%}
{%- set parts = [] -%}
{%- set ns = namespace(low='0') -%}
{%- for tier in formula['tiers'] -%}
{%- set high = to_bp(tier['deferral_max']) -%}
{%- do parts.append(to_bp(tier['rate']) ~ ' * ((' ~ high ~ ') - (' ~ ns.low ~ ')) * cast(' ~ cnum ~ ' as hugeint)') -%}
{%- set ns.low = high -%}
{%- endfor -%}
{{ match_caps('(' ~ (parts | join(' + ')) ~ ')', cnum, cden, formula) }}
{%- endmacro %}
