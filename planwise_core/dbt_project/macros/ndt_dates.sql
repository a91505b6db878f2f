{#- The n-th anniversary (or birthday) of a date; one of 29 February falls on 1 March in other years (docs/ndt.md N4). -#}
{% macro ndt_anniversary(d, n) -%}
case when month({{ d }}) = 2 and day({{ d }}) = 29
          and day(last_day(make_date(year({{ d }}) + {{ n }}, 2, 1))) = 28
     then make_date(year({{ d }}) + {{ n }}, 3, 1)
     else cast({{ d }} + to_years({{ n }}) as date) end
{%- endmacro %}

{#- Not counted in the top-paid group or officer-cap population of period year X: under 21 on Dec 31 of X or under
    six months of service on Jan 1 of X+1 (docs/ndt.md N2, N3). -#}
{% macro ndt_not_counted(birth, hire, period_year) -%}
({{ ndt_anniversary(birth, 21) }} > make_date({{ period_year }}, 12, 31)
 or cast({{ hire }} + to_months(6) as date) > make_date({{ period_year }} + 1, 1, 1))
{%- endmacro %}

{#- keytest of docs/ndt.md N3 over ``population`` (employee_id, employee_birth_date, employee_hire_date, pay_cents,
    ownership_pct, is_officer) for period year ``period_year``: employee_id, key_reason (null: not key). -#}
{% macro ndt_key_test(population, period_year) -%}
select
    employee_id,
    case
        when ownership_pct > 0.05 then 'owner_5pct'
        when ownership_pct > 0.01 and pay_cents > 15000000 then 'owner_1pct'
        when is_officer and pay_cents > officer_line * 100 and officer_rank <= officer_cap then 'officer'
    end as key_reason
from (
    select
        p.*,
        (select key_officer_416i from {{ ref('int_ndt_thresholds_by_year') }} where limit_year = {{ period_year }})
            as officer_line,
        case when is_officer then row_number() over (partition by is_officer order by pay_cents desc, employee_id) end
            as officer_rank,
        least(50, greatest(3, (count(*) over () - count(*) filter (where {{ ndt_not_counted(
            'employee_birth_date', 'employee_hire_date', period_year) }}) over () + 9) // 10)) as officer_cap
    from {{ population }} as p
) as ranked
{%- endmacro %}
