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
