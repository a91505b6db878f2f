{#- R10: annual additions above the 415 limit, (d - cu) + m + k - L (positive means too much); cu is the row's
    catch_up_cents, fixed before the correction. -#}
{% macro excess_415(d, m, k) -%}
(({{ d }}) - catch_up_cents + ({{ m }}) + ({{ k }}) - limit_415_cents)
{%- endmacro %}
