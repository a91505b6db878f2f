{#- Whole cents of an exact DECIMAL dollar amount (a salary or balance), and back to DECIMAL(18,2) dollars. -#}
{% macro cents(amount) -%}
cast({{ round_half_up(amount ~ ' * 100') }} as bigint)
{%- endmacro %}

{% macro dollars(cents_expr) -%}
cast(cast({{ cents_expr }} as decimal(18, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}

{#- A configured dollar amount (a float var) as whole cents, rounded half up once. -#}
{% macro cents_literal(value) -%}
{{ round_half_up('cast(' ~ value ~ ' as decimal(18, 4)) * 100') }}
{%- endmacro %}
