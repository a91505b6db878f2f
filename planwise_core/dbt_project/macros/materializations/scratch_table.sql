{#- A table rebuilt from scratch on every run of its model, in one statement: `create or replace table ... as`.
    dbt-duckdb's `table` builds a __dbt_tmp table, renames the old one to a backup, renames the new one in and
    drops the backup (four catalog changes and a commit per model); a year's intermediate tables are rebuilt by
    every year, never read by users while they are rebuilt, so one atomic CREATE OR REPLACE does the same work.
    Both engines run it (the legacy engine in one dbt process per model), with the same compiled SQL. -#}
{% materialization scratch_table, adapter="duckdb", supported_languages=['sql'] %}
  {%- set existing_relation, target_relation = planwise_table_relations('scratch_table') -%}
  {% call statement('main') -%}
    create or replace table {{ target_relation }} as (
      {{ compiled_code }}
    )
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
