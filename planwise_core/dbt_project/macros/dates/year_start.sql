{#- January 1 of the simulation year (default: the simulation_year var). -#}
{% macro year_start(year=none) -%}make_date({{ year or var('simulation_year') }}, 1, 1){%- endmacro %}
