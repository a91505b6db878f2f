{#- The census date as a SQL DATE expression: cast('<census_date>' as date) under dbt, getvariable('census_date')
    (a DATE) when compiled year-agnostic for the compiled engine, which sets that variable on its connection (as
    sim_year(); docs/compiled_engine.md). -#}
{% macro sim_census_date() -%}
{%- if var('year_agnostic', false) -%} getvariable('census_date')
{%- else -%} cast('{{ var('census_date') }}' as date)
{%- endif -%}
{%- endmacro %}
