{#- Completed years between two dates (day-exact age or tenure). -#}
{% macro completed_years(from_date, to_date) -%}
(year({{ to_date }}) - year({{ from_date }}) - case when strftime({{ to_date }}, '%m%d') < strftime({{ from_date }}, '%m%d') then 1 else 0 end)
{%- endmacro %}
