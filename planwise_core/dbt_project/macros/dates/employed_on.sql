{#- True when the person is employed on the given day (hire and termination days included). -#}
{% macro employed_on(day_expr, hire_date='employee_hire_date', termination_date='termination_date') -%}
({{ day_expr }} >= {{ hire_date }} and ({{ termination_date }} is null or {{ termination_date }} >= {{ day_expr }}))
{%- endmacro %}
