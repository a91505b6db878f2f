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
