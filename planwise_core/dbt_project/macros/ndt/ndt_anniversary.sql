{#- The n-th anniversary (or birthday) of a date; one of 29 February falls on 1 March in other years (docs/ndt.md N4). -#}
{% macro ndt_anniversary(d, n) -%}
case when month({{ d }}) = 2 and day({{ d }}) = 29
          and day(last_day(make_date(year({{ d }}) + {{ n }}, 2, 1))) = 28
     then make_date(year({{ d }}) + {{ n }}, 3, 1)
     else cast({{ d }} + to_years({{ n }}) as date) end
{%- endmacro %}
