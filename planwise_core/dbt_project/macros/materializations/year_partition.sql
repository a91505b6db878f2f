{#- A table that keeps one partition per simulation year: a run of the model replaces the year's rows.

    The first run creates the table from the query. Later runs check the query's columns against the table's
    (names and DuckDB types, by `describe`) and fail loudly on any difference, then delete the year
    (var simulation_year) and insert the query's rows by column name, in one transaction: the rows are written
    once, not staged in a temporary table first as dbt's delete+insert does. `--full-refresh` recreates the
    table from the query (every other year is lost, as with dbt's incremental). The legacy engine runs the same
    materialization and SQL, one dbt process per model. -#}
{% materialization year_partition, adapter="duckdb", supported_languages=['sql'] %}
  {%- set year_column = config.get('year_column', 'simulation_year') -%}
  {%- set year = var('simulation_year') | int -%}
  {%- set existing_relation, target_relation = planwise_table_relations('year_partition') -%}

  {%- if existing_relation is none or should_full_refresh() -%}
    {%- set build_sql -%}
      create or replace table {{ target_relation }} as (
        {{ compiled_code }}
      )
    {%- endset -%}
  {%- else -%}
    {%- set have = planwise_described("describe " ~ target_relation) -%}
    {%- set want = planwise_described("describe (" ~ compiled_code ~ ")") -%}
    {%- if have != want -%}
      {{ exceptions.raise_compiler_error("model " ~ model.name ~ " changed its columns: the table " ~ target_relation
         ~ " has " ~ have | join(', ') ~ " but the model now returns " ~ want | join(', ')
         ~ ". Rebuild from the start year into a new database (or run with --full-refresh)") }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in have -%}{%- do names.append(column.split(' ')[0]) -%}{%- endfor -%}
    {%- if year_column not in names -%}
      {{ exceptions.raise_compiler_error("model " ~ model.name ~ " has no column " ~ year_column
         ~ " to partition " ~ target_relation ~ " by year") }}
    {%- endif -%}
    {%- set build_sql -%}
      delete from {{ target_relation }} where {{ adapter.quote(year_column) }} = {{ year }};
      insert into {{ target_relation }} by name (
        {{ compiled_code }}
      )
    {%- endset -%}
  {%- endif -%}

  {% call statement('main') -%}
    {{ build_sql }}
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
