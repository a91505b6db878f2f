{#- The core rate (bp) of each person's band (R9). -#}
{% macro core_rate_by_band(key) -%}
{%- set bands = var('plan_core_bands') -%}
{%- set rendered = [] -%}
{%- for band in bands -%}{%- do rendered.append(to_bp(band['rate'])) -%}{%- endfor -%}
{{ by_band(key, bands, rendered) }}
{%- endmacro %}
