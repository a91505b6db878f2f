{#- docs/ndt.md N6, N11: the test group of an employee of the ADP or ACP test under plan.ndt.otherwise_excludable:
    none when not eligible for the test, else `main`, or `excludable` for the otherwise-excludable employees the
    option tests apart (`disaggregate`); `exclude_nhce` leaves the otherwise-excludable NHCEs out. -#}
{% macro ndt_test_group(eligible_column) -%}
{%- set option = var('plan_ndt_otherwise_excludable') -%}
case
    when not {{ eligible_column }} then null
    {%- if option == 'none' %}
    else 'main'
    {%- elif option == 'exclude_nhce' %}
    when is_hce or not is_otherwise_excludable then 'main'
    {%- else %}
    when not is_otherwise_excludable then 'main' else 'excludable'
    {%- endif %}
end
{%- endmacro %}
