{#- The formula's optional caps (fraction of match pay, dollars) applied to a numerator of match_formula's units. -#}
{% macro match_caps(numerator, cnum, cden, formula, wide=true) -%}
{%- set int = 'hugeint' if wide else 'bigint' -%}
{%- set caps = [numerator] -%}
{%- if formula['cap_pct_of_comp'] is not none -%}
{%- do caps.append(to_bp(formula['cap_pct_of_comp']) ~ ' * cast(' ~ cnum ~ ' as ' ~ int ~ ') * 10000') -%}
{%- endif -%}
{%- if formula['cap_dollars'] is not none -%}
{%- do caps.append(cents_literal(formula['cap_dollars']) ~ ' * cast(' ~ cden ~ ' as ' ~ int ~ ') * 100000000') -%}
{%- endif -%}
{%- if caps | length == 1 -%} {{ numerator }} {%- else -%} least({{ caps | join(', ') }}) {%- endif -%}
{%- endmacro %}
