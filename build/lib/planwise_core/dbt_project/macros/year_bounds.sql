{#- First and last day of the simulation year, and its length in days. -#}
{% macro year_start(year=none) -%}make_date({{ year or var('simulation_year') }}, 1, 1){%- endmacro %}
{% macro year_end(year=none) -%}make_date({{ year or var('simulation_year') }}, 12, 31){%- endmacro %}
{% macro days_in_year(year=none) -%}(date_diff('day', {{ year_start(year) }}, {{ year_end(year) }}) + 1){%- endmacro %}
