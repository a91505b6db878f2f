{#- The run's last simulated year as a SQL expression: the literal end_year var under dbt, getvariable('end_year')
    when compiled year-agnostic for the compiled engine, which sets that variable on its connection (as sim_year();
    docs/compiled_engine.md). -#}
{% macro sim_end_year() -%}
{%- if var('year_agnostic', false) -%} getvariable('end_year')
{%- else -%} {{ var('end_year') }}
{%- endif -%}
{%- endmacro %}
