{#- Integer basis points back to an exact DECIMAL(9,6) rate (a DECIMAL product: never a DOUBLE division). -#}
{% macro bp_to_rate(bp) -%}
cast(cast({{ bp }} as decimal(18, 0)) * 0.0001 as decimal(9, 6))
{%- endmacro %}
