{#- A rate (a fraction, as a column or a var) in integer basis points, rounded half up once (dc_plan 2.3). -#}
{% macro to_bp(rate) -%}
{{ round_half_up('cast(' ~ rate ~ ' as decimal(18, 10)) * 10000') }}
{%- endmacro %}

{#- Integer basis points back to an exact DECIMAL(9,6) rate (a DECIMAL product: never a DOUBLE division). -#}
{% macro bp_to_rate(bp) -%}
cast(cast({{ bp }} as decimal(18, 0)) * 0.0001 as decimal(9, 6))
{%- endmacro %}
