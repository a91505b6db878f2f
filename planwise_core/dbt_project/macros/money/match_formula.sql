{#- F(x, Ĉ) of docs/plan_rules.md R6 for one formula, as an exact HUGEINT numerator in units of 1 / (cden * 10^8) cents
    (x deferral cents; Ĉ = cnum / cden cents). Tier t pays rate_t on the deferral between lo_t·Ĉ and hi_t·Ĉ. -#}
{% macro match_formula(x, cnum, cden, formula) -%}
{%- set parts = [] -%}
{%- set ns = namespace(low='0') -%}
{%- for tier in formula['tiers'] -%}
{%- set high = to_bp(tier['deferral_max']) -%}
{%- do parts.append(to_bp(tier['rate']) ~ ' * least(greatest(cast(' ~ x ~ ' as hugeint) * (' ~ cden ~ ') * 10000 - ('
                    ~ ns.low ~ ') * cast(' ~ cnum ~ ' as hugeint), 0), ((' ~ high ~ ') - (' ~ ns.low ~ ')) * cast('
                    ~ cnum ~ ' as hugeint))') -%}
{%- set ns.low = high -%}
{%- endfor -%}
{{ match_caps('(' ~ (parts | join(' + ')) ~ ')', cnum, cden, formula) }}
{%- endmacro %}
