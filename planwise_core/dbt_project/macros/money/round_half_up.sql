{#- Round a non-negative exact (decimal) quantity half up to an integer. -#}
{% macro round_half_up(expr) -%}
cast(floor(({{ expr }}) + 0.5) as bigint)
{%- endmacro %}
