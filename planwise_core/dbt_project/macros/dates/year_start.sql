{#- January 1 of the simulation year (default: sim_year(), the year as a SQL expression). -#}
{% macro year_start(year=none) -%}make_date({{ year or sim_year() }}, 1, 1){%- endmacro %}
