{#- December 31 of the simulation year (default: the simulation_year var). -#}
{% macro year_end(year=none) -%}make_date({{ year or var('simulation_year') }}, 12, 31){%- endmacro %}
