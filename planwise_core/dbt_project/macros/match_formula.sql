{#- F(x, Ĉ) of dc_plan R6 for one formula, as an exact HUGEINT numerator in units of 1 / (cden * 10^8) cents
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

{#- The formula's optional caps (fraction of match pay, dollars) applied to a numerator of match_formula's units. -#}
{% macro match_caps(numerator, cnum, cden, formula) -%}
{%- set caps = [numerator] -%}
{%- if formula['cap_pct_of_comp'] is not none -%}
{%- do caps.append(to_bp(formula['cap_pct_of_comp']) ~ ' * cast(' ~ cnum ~ ' as hugeint) * 10000') -%}
{%- endif -%}
{%- if formula['cap_dollars'] is not none -%}
{%- do caps.append(cents_literal(formula['cap_dollars']) ~ ' * cast(' ~ cden ~ ' as hugeint) * 100000000') -%}
{%- endif -%}
{%- if caps | length == 1 -%} {{ numerator }} {%- else -%} least({{ caps | join(', ') }}) {%- endif -%}
{%- endmacro %}

{#- The smallest whole cent of matchable deferral at which the formula reaches its maximum ``maximum`` (a
    match_formula_max value): the saturation point S of dc_plan R10 step 1, rounded up to a cent. -#}
{% macro match_saturation(maximum, cnum, cden, formula) -%}
{%- set ns = namespace(low='0', paid='cast(0 as hugeint)') -%}
case
    when {{ maximum }} = 0 then 0
{%- for tier in formula['tiers'] %}
{%- set high = to_bp(tier['deferral_max']) %}
{%- set rate = to_bp(tier['rate']) %}
    when {{ rate }} > 0 and {{ maximum }} <= {{ ns.paid }} + {{ rate }} * (({{ high }}) - ({{ ns.low }})) * cast({{ cnum }} as hugeint)
        then (({{ ns.low }}) * cast({{ cnum }} as hugeint) * {{ rate }} + {{ maximum }} - ({{ ns.paid }})
              + {{ rate }} * cast({{ cden }} as hugeint) * 10000 - 1) // ({{ rate }} * cast({{ cden }} as hugeint) * 10000)
{%- set ns.paid = ns.paid ~ ' + ' ~ rate ~ ' * ((' ~ high ~ ') - (' ~ ns.low ~ ')) * cast(' ~ cnum ~ ' as hugeint)' %}
{%- set ns.low = high %}
{%- endfor %}
end
{%- endmacro %}

{#- g(r) of dc_plan R8 in bp x bp: the per-payroll match rate for a deferral rate r (bp), with the percent cap. -#}
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
