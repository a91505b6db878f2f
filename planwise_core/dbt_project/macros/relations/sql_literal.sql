{#- Render a var as a SQL literal: null for none, quoted for strings, true/false for booleans. -#}
{% macro sql_literal(value) -%}
{%- if value is none -%} null
{%- elif value is sameas true -%} true
{%- elif value is sameas false -%} false
{%- elif value is string -%} '{{ value }}'
{%- else -%} {{ value }}
{%- endif -%}
{%- endmacro %}
