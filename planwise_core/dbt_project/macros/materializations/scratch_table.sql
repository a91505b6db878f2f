{#- A table rebuilt from scratch on every run of its model, in one statement: `create or replace table ... as`.
    dbt-duckdb's `table` builds a __dbt_tmp table, renames the old one to a backup, renames the new one in and
    drops the backup (four catalog changes and a commit per model); a year's intermediate tables are rebuilt by
    every year, never read by users while they are rebuilt, so one atomic CREATE OR REPLACE does the same work.
    Both engines run it (the legacy engine in one dbt process per model), with the same compiled SQL. -#}
{% materialization scratch_table, adapter="duckdb", supported_languages=['sql'] %}
  {{ planwise_refuse_unsupported('scratch_table') }}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- if existing_relation is not none and not existing_relation.is_table -%}
    {{ exceptions.raise_compiler_error(target_relation ~ " exists as a " ~ existing_relation.type
       ~ ", not a table: drop it, then run again") }}
  {%- endif -%}
  {% call statement('main') -%}
    create or replace table {{ target_relation }} as (
      {{ compiled_code }}
    )
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
