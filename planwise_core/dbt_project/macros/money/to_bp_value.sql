{#- A configured rate in integer bp, half up, at compile time (the value to_bp gives in SQL). -#}
{% macro to_bp_value(rate) -%}
{%- do return(((rate | string | float) * 10000 + 0.5 + 0.000000001) | round(0, 'floor') | int) -%}
{%- endmacro %}
