{#- December 31 of the simulation year (default: sim_year(), the year as a SQL expression). -#}
{% macro year_end(year=none) -%}make_date({{ year or sim_year() }}, 12, 31){%- endmacro %}
