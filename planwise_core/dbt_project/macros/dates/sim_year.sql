{#- The simulation year as a SQL expression. Under dbt (the optimized and legacy engines) it is the literal year
    of the simulation_year var. When the project is compiled year-agnostic for the compiled engine (var
    year_agnostic: true) it is getvariable('simulation_year'), which that engine sets on its connection before it
    runs a year; DuckDB replaces getvariable by its value when it binds the query, so both forms give the same
    plans and the same tables (docs/compiled_engine.md). -#}
{% macro sim_year() -%}
{%- if var('year_agnostic', false) -%} getvariable('simulation_year')
{%- else -%} {{ var('simulation_year') }}
{%- endif -%}
{%- endmacro %}
