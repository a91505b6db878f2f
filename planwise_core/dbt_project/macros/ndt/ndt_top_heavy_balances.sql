{#- docs/ndt.md N16: the balances on the determination date (Dec 31 of Y-1) of the continuing employees
    (``people``: employee_id, employee_hire_date, is_key, is_former_key, balance_cents) and of the leavers of Y-1
    (their th_distribution), as one row: key_cents, total_cents. -#}
{% macro ndt_top_heavy_balances(people) -%}
{%- set year = var('simulation_year') -%}
select
    coalesce(sum(bal) filter (where is_key), 0) as key_cents,
    coalesce(sum(bal) filter (where not is_former_key), 0) as total_cents
from (
    select balance_cents as bal, is_key, is_former_key
    from {{ people }}
    where employee_hire_date < {{ year_start() }}
{%- if year != var('start_year') %}
    union all
    select {{ cents('th_distribution') }}, key_test_in_year,
           not key_test_in_year and (is_key or is_former_key)
    from {{ previous_year_relation('fct_ndt_employee') }}
    where simulation_year = ({{ sim_year() }} - 1) and th_distribution > 0
{%- endif %}
) as balances
{%- endmacro %}
