{#- The PlanWise materializations build plain DuckDB tables and nothing else: a model that asks for a contract,
    grants, indexes, hooks or partitioning options they do not implement is refused at run time, not ignored. -#}
{% macro planwise_refuse_unsupported(materialization) %}
  {%- set asked = [] -%}
  {%- if model.config.get('contract', {}).get('enforced') -%}{%- do asked.append('contract') -%}{%- endif -%}
  {%- for key in ['grants', 'indexes', 'partitioned_by', 'sorted_by', 'unique_key', 'incremental_strategy'] -%}
    {%- if config.get(key) -%}{%- do asked.append(key) -%}{%- endif -%}
  {%- endfor -%}
  {%- if pre_hooks or post_hooks -%}{%- do asked.append('hooks') -%}{%- endif -%}
  {%- if asked -%}
    {{ exceptions.raise_compiler_error("model " ~ model.name ~ " (materialized='" ~ materialization ~ "') sets "
       ~ asked | join(', ') ~ ", which this materialization does not implement: use materialized='table' or "
       ~ "'incremental' for it") }}
  {%- endif -%}
{% endmacro %}

{#- What both materializations start with: refuse what they do not implement, then (the relation as it exists
    or none, the table to build); a view or other object in the table's place is refused by name. -#}
{% macro planwise_table_relations(materialization) %}
  {{ planwise_refuse_unsupported(materialization) }}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- if existing_relation is not none and not existing_relation.is_table -%}
    {{ exceptions.raise_compiler_error(target_relation ~ " exists as a " ~ existing_relation.type
       ~ ", not a table: drop it, then run again") }}
  {%- endif -%}
  {{ return([existing_relation, target_relation]) }}
{% endmacro %}
