{#- Whole cents back to exact DECIMAL(18,2) dollars. -#}
{% macro dollars(cents_expr) -%}
cast(cast({{ cents_expr }} as decimal(18, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}
