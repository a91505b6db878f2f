{#- Whole cents of an exact DECIMAL dollar amount (a salary or balance), rounded half up once. -#}
{% macro cents(amount) -%}
cast({{ round_half_up(amount ~ ' * 100') }} as bigint)
{%- endmacro %}
