{#- A rate that may vary by year: a number, or a mapping year -> rate that the host fills for every simulated
    year (config.schema.to_dbt_vars). Renders the value for simulation_year. The compiled engine resolves the
    mapping to the year's number before it compiles year-agnostic (docs/compiled_engine.md), so a mapping there is
    a bug: it would put one year's rate into SQL that serves every year. -#}
{% macro for_year(value) -%}
{%- if value is mapping and var('year_agnostic', false) -%}
{{ exceptions.raise_compiler_error("for_year: a year-keyed rate reached a year-agnostic compile; resolve it to the year's value first") }}
{%- elif value is mapping -%} {{ value[var('simulation_year') | string] }}
{%- else -%} {{ value }}
{%- endif -%}
{%- endmacro %}
