{#- Completed years between two dates (day-exact age or tenure); arithmetic, as strftime is slow on large tables. -#}
{% macro completed_years(from_date, to_date) -%}
(year({{ to_date }}) - year({{ from_date }})
 - case when month({{ to_date }}) * 100 + day({{ to_date }}) < month({{ from_date }}) * 100 + day({{ from_date }}) then 1 else 0 end)
{%- endmacro %}
