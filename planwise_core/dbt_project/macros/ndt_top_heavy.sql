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
    where simulation_year = {{ year - 1 }} and th_distribution > 0
{%- endif %}
) as balances
{%- endmacro %}

{#- Money cents as DECIMAL(18,2) dollars and basis points as a DECIMAL(7,4) fraction (docs/ndt.md, Outputs). -#}
{% macro bp_ratio(bp) -%}
cast(cast({{ bp }} as decimal(18, 0)) * 0.0001 as decimal(7, 4))
{%- endmacro %}

{#- N16: the highest key rate (D - cu + M + K) / min(C, L17) of the year's keys, capped at 3 %, as an exact fraction
    rate_num / rate_den (the max is found on a 10^-15 integer key; the fraction kept is the key's own). -#}
{% macro ndt_key_rate(source) -%}
{%- set num = 'cast(d_cents - cu_cents + m_cents + k_cents as hugeint)' -%}
{%- set den = 'least(comp_cents, l17_cents)' -%}
select
    case when coalesce(bool_or(100 * {{ num }} >= 3 * {{ den }}), false) then 3
         else coalesce(arg_max({{ num }}, {{ num }} * 1000000000000000 // {{ den }}), 0) end as rate_num,
    case when coalesce(bool_or(100 * {{ num }} >= 3 * {{ den }}), false) then 100
         else coalesce(arg_max({{ den }}, {{ num }} * 1000000000000000 // {{ den }}), 1) end as rate_den
from {{ source }}
where is_key and {{ den }} > 0
{%- endmacro %}
