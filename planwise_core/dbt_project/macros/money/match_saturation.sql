{#- The smallest whole cent of matchable deferral at which the formula reaches its maximum ``maximum`` (a
    match_formula_max value): the saturation point S of docs/plan_rules.md R10 step 1, rounded up to a cent. -#}
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
