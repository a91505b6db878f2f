{#- A configured dollar amount (a float var) as whole cents, rounded half up once. -#}
{% macro cents_literal(value) -%}
{{ round_half_up('cast(' ~ value ~ ' as decimal(18, 4)) * 100') }}
{%- endmacro %}
