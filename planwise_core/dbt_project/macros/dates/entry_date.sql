{#- A plan entry date: the day itself (immediate) or the first of the next month unless it is already the 1st. -#}
{% macro entry_date(day_expr, entry) -%}
{%- if entry == 'first_of_next_month' -%}
case when day({{ day_expr }}) = 1 then {{ day_expr }} else cast(date_trunc('month', {{ day_expr }}) + interval 1 month as date) end
{%- else -%}
{{ day_expr }}
{%- endif -%}
{%- endmacro %}
