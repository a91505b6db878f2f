{#- F(x, Ĉ) of docs/plan_rules.md R6 for one formula, as an exact integer numerator in units of 1 / (cden * 10^8) cents
    (x deferral cents; Ĉ = cnum / cden cents). Tier t pays rate_t on the deferral between lo_t·Ĉ and hi_t·Ĉ. HUGEINT,
    or BIGINT (``wide`` false) for rows inside match_bigint_bound's bounds, where every product fits. -#}
{% macro match_formula(x, cnum, cden, formula, wide=true) -%}
{%- set int = 'hugeint' if wide else 'bigint' -%}
{%- set parts = [] -%}
{%- set ns = namespace(low='0') -%}
{%- for tier in formula['tiers'] -%}
{%- set high = to_bp_value(tier['deferral_max']) -%}
{%- do parts.append(to_bp_value(tier['rate']) ~ ' * least(greatest(cast(' ~ x ~ ' as ' ~ int ~ ') * (' ~ cden ~ ') * 10000 - ('
                    ~ ns.low ~ ') * cast(' ~ cnum ~ ' as ' ~ int ~ '), 0), ' ~ (high - (ns.low | int)) ~ ' * cast('
                    ~ cnum ~ ' as ' ~ int ~ '))') -%}
{%- set ns.low = high -%}
{%- endfor -%}
{{ match_caps('(' ~ (parts | join(' + ')) ~ ')', cnum, cden, formula, wide) }}
{%- endmacro %}
