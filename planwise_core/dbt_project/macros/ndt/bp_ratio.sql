{#- Money cents as DECIMAL(18,2) dollars and basis points as a DECIMAL(7,4) fraction (docs/ndt.md, Outputs). -#}
{% macro bp_ratio(bp) -%}
cast(cast({{ bp }} as decimal(18, 0)) * 0.0001 as decimal(7, 4))
{%- endmacro %}
