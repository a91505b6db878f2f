{#- The first simulated year as a SQL expression: the literal start_year var under dbt, getvariable('start_year')
    when compiled year-agnostic for the compiled engine, which sets that variable on its connection (as sim_year();
    docs/compiled_engine.md). Jinja may still compare var('simulation_year') with var('start_year'): that only
    tells the first year from the later ones. -#}
{% macro sim_start_year() -%}
{%- if var('year_agnostic', false) -%} getvariable('start_year')
{%- else -%} {{ var('start_year') }}
{%- endif -%}
{%- endmacro %}
