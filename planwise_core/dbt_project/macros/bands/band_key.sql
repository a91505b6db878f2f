{#- The number a graded formula picks its band by: Dec 31 service, age, or points (age + service). -#}
{% macro band_key(graded_by, age='current_age', service='current_tenure') -%}
{%- if graded_by == 'service' -%} {{ service }}
{%- elif graded_by == 'age' -%} {{ age }}
{%- elif graded_by == 'points' -%} ({{ age }} + {{ service }})
{%- else -%} 0
{%- endif -%}
{%- endmacro %}
