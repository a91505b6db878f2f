{#- R10: annual additions above the 415 limit, (d - cu) + m + k - L (positive means too much). -#}
{% macro excess_415(d, m, k) -%}
(({{ d }}) - {{ catch_up_415(d, m, k) }} + ({{ m }}) + ({{ k }}) - limit_415_cents)
{%- endmacro %}
