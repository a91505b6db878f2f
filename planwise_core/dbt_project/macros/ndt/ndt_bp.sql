{#- A configured rate as integer basis points at compile time (docs/ndt.md N5). -#}
{% macro ndt_bp(rate) -%}{{ return(((rate * 10000) | round) | int) }}{%- endmacro %}
