{#- A safe-harbor minimum formula: min(r, full) + half of the deferral between half_from and half_to, in bp x bp (docs/ndt.md N5). -#}
{% macro ndt_minimum(r, full, half_from, half_to) -%}
{#- min(r, full) + half of the deferral between half_from and half_to, in bp x bp. -#}
{{ return(10000 * ([r, full] | min) + 5000 * ([[r - half_from, 0] | max, half_to - half_from] | min)) }}
{%- endmacro %}
