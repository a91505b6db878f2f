{#- A rate that may vary by year: a number, or a mapping year -> rate that the host fills for every simulated
    year (config.schema.to_dbt_vars). Renders the value for simulation_year. -#}
{% macro for_year(value) -%}
{%- if value is mapping -%} {{ value[var('simulation_year') | string] }}
{%- else -%} {{ value }}
{%- endif -%}
{%- endmacro %}
