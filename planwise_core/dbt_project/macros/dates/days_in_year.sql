{#- The number of days of the simulation year (365 or 366). -#}
{% macro days_in_year(year=none) -%}(date_diff('day', {{ year_start(year) }}, {{ year_end(year) }}) + 1){%- endmacro %}
