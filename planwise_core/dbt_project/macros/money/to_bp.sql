{#- A rate (a fraction, as a column or a var) in integer basis points, rounded half up once (dc_plan 2.3). -#}
{% macro to_bp(rate) -%}
{{ round_half_up('cast(' ~ rate ~ ' as decimal(18, 10)) * 10000') }}
{%- endmacro %}
