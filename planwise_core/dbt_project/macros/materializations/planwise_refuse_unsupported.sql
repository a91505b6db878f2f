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
