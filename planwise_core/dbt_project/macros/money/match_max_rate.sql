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
