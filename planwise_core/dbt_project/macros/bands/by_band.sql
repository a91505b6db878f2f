{#- A CASE picking, per band [min, max), the SQL that a caller rendered for it (one band: that SQL alone). -#}
{% macro by_band(key, bands, rendered) -%}
{%- if bands | length == 1 and bands[0]['min'] in (none, 0) and bands[0]['max'] is none -%}
{{ rendered[0] }}
{%- else -%}
case
{%- for band in bands %}
    when {{ key }} >= {{ band['min'] }}{% if band['max'] is not none %} and {{ key }} < {{ band['max'] }}{% endif %} then {{ rendered[loop.index0] }}
{%- endfor %}
end
{%- endif -%}
{%- endmacro %}
