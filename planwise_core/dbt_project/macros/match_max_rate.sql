{#- m* of docs/plan_money.md (R2a) in bp for each person's band: the rate that captures the whole match, as a CASE on ``key``. -#}
{% macro match_max_rate(key) -%}
{%- if not (var('plan_enabled') and var('plan_match_enabled')) -%}
0
{%- else -%}
{%- set formulas = match_formulas() -%}
{%- set rendered = [] -%}
{%- for formula in formulas -%}
{%- do rendered.append(match_max_rate_of(formula) | trim) -%}
{%- endfor -%}
{{ by_band(key, formulas, rendered) }}
{%- endif -%}
{%- endmacro %}

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

{#- A configured rate in integer bp, half up, at compile time (the value to_bp gives in SQL). -#}
{% macro to_bp_value(rate) -%}
{%- do return(((rate | string | float) * 10000 + 0.5 + 0.000000001) | round(0, 'floor') | int) -%}
{%- endmacro %}

{#- R2a new_enrollee_share: a proactive or voluntary election becomes m* (by the band on ``on_date``) when the
    person's "match_magnet" draw of the year falls below the share and the match pays something. -#}
{% macro match_magnet(rate, on_date, birth_date, hire_date) -%}
{%- set target = match_max_rate(band_key(var('plan_match_graded_by'), completed_years(birth_date, on_date),
                                         completed_years(hire_date, on_date))) -%}
case
    when {{ uniform_draw('employee_id', var('simulation_year'), 'match_magnet') }} < {{ var('plan_match_response_new_enrollee_share') }}
         and {{ target }} > 0
        then {{ bp_to_rate(target) }}
    else {{ rate }}
end
{%- endmacro %}
