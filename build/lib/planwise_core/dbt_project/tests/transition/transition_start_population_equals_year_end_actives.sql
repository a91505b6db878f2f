{{ config(tags=["year_start"]) }}
{#- The start population of a year is exactly the previous year's year-end actives. One row per difference. -#}
-- depends_on: {{ ref('fct_workforce_snapshot') }}
-- depends_on: {{ ref('int_workforce_start') }}
{%- if var('simulation_year') > var('start_year') %}
select coalesce(previous.employee_id, current_start.employee_id) as employee_id,
       previous.employee_id is null as only_in_start, current_start.employee_id is null as only_in_previous
from (
    select employee_id from {{ ref('fct_workforce_snapshot') }}
    where simulation_year = {{ var('simulation_year') - 1 }} and employment_status = 'active'
) as previous
full join (
    select employee_id from {{ ref('int_workforce_start') }} where simulation_year = {{ var('simulation_year') }}
) as current_start using (employee_id)
where previous.employee_id is null or current_start.employee_id is null
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
