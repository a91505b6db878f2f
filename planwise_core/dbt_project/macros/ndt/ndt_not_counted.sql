{#- Not counted in the top-paid group or officer-cap population of period year X: under 21 on Dec 31 of X or under
    six months of service on Jan 1 of X+1 (docs/ndt.md N2, N3). -#}
{% macro ndt_not_counted(birth, hire, period_year) -%}
({{ ndt_anniversary(birth, 21) }} > make_date({{ period_year }}, 12, 31)
 or cast({{ hire }} + to_months(6) as date) > make_date({{ period_year }} + 1, 1, 1))
{%- endmacro %}
