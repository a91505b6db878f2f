{#- The sanctioned exception to ref(): an incremental mart read for the previous year (a ref would be a cycle). -#}
{% macro previous_year_relation(identifier) -%}
{{ adapter.quote(this.schema) }}.{{ adapter.quote(identifier) }}
{%- endmacro %}
