{#- Not counted in the top-paid group or officer-cap population of period year X: under 21 on Dec 31 of X or under
    six months of service on Jan 1 of X+1 (docs/ndt.md N2, N3). Both are comparisons with a constant date: the 21st
    birthday (29 February moved to 1 March) falls after Dec 31 of X exactly when the birth year is after X - 21,
    and hire + 6 months (month ends clamped, so never earlier for a later hire) falls after Jan 1 of X+1 exactly
    when the hire date is after Jul 1 of X. -#}
{% macro ndt_not_counted(birth, hire, period_year) -%}
({{ birth }} > make_date({{ period_year }} - 21, 12, 31) or {{ hire }} > make_date({{ period_year }}, 7, 1))
{%- endmacro %}
