{#- One piece of the match formula (amount, max, saturation, rate) for each person's band, as a CASE on ``key``. -#}
{% macro match_by_band(kind, key, a=none, b=none, c=none) -%}
{%- set formulas = match_formulas() -%}
{%- set rendered = [] -%}
{%- for formula in formulas -%}
{%- if kind == 'amount' -%}{%- do rendered.append(match_formula(a, b, c, formula)) -%}
{%- elif kind == 'amount_bigint' -%}{%- do rendered.append(match_formula(a, b, c, formula, wide=false)) -%}
{%- elif kind == 'max' -%}{%- do rendered.append(match_formula_max(a, b, formula)) -%}
{%- elif kind == 'saturation' -%}{%- do rendered.append(match_saturation(a, b, c, formula)) -%}
{%- elif kind == 'rate' -%}{%- do rendered.append(match_rate_g(a, formula)) -%}
{%- elif kind == 'cap_dollars' -%}
{%- do rendered.append(cents_literal(formula['cap_dollars']) if formula['cap_dollars'] is not none else 'cast(null as bigint)') -%}
{%- endif -%}
{%- endfor -%}
{{ by_band(key, formulas, rendered) }}
{%- endmacro %}
