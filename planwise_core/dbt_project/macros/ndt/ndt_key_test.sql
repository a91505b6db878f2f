{#- keytest of docs/ndt.md N3 over ``population`` (employee_id, employee_birth_date, employee_hire_date, pay_cents,
    ownership_pct, is_officer) for period year ``period_year``: employee_id, key_reason, for the owners above 1 %
    and the officers only (everyone else is not key). The officers are ranked among themselves and the officer
    cap counts the population in one aggregate: no window or sort over the whole population. -#}
{% macro ndt_key_test(population, period_year) -%}
select
    p.employee_id,
    case
        when p.ownership_pct > 0.05 then 'owner_5pct'
        when p.ownership_pct > 0.01 and p.pay_cents > 15000000 then 'owner_1pct'
        when p.is_officer and p.pay_cents > officer_line * 100 and officers.officer_rank <= cap.officer_cap then 'officer'
    end as key_reason
from (
    select *,
           (select key_officer_416i from {{ ref('int_ndt_thresholds_by_year') }} where limit_year = {{ period_year }})
               as officer_line
    from {{ population }}
    where ownership_pct > 0.01 or is_officer
) as p
left join (
    select employee_id, row_number() over (order by pay_cents desc, employee_id) as officer_rank
    from {{ population }}
    where is_officer
) as officers using (employee_id)
cross join (
    select least(50, greatest(3, (count(*) - count(*) filter (where {{ ndt_not_counted(
               'employee_birth_date', 'employee_hire_date', period_year) }}) + 9) // 10)) as officer_cap
    from {{ population }}
) as cap
{%- endmacro %}
