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
        -- The not-counted employees as a BIGINT sum over (): a FILTERed window aggregate over () is evaluated row by
        -- row in DuckDB (quadratic in the population), a plain one once.
        least(50, greatest(3, (count(*) over () - cast(sum(case when {{ ndt_not_counted(
            'employee_birth_date', 'employee_hire_date', period_year) }} then 1 else 0 end) over () as bigint) + 9)
            // 10)) as officer_cap
    from {{ population }} as p
) as ranked
{%- endmacro %}
