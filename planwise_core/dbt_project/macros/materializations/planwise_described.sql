{#- "name type" of every column a `describe` returns, sorted by name (insert by name ignores the order). -#}
{% macro planwise_described(sql) %}
  {%- set result = run_query(sql) -%}
  {%- set columns = [] -%}
  {%- for row in result.rows -%}{%- do columns.append(row[0] ~ ' ' ~ row[1]) -%}{%- endfor -%}
  {{ return(columns | sort) }}
{% endmacro %}
