{{ config(tags=["year_start"]) }}
{#- The start population of a year is exactly the previous year's year-end actives. One row per difference. -#}
{#- Reads the completed year's tables beside the start population, not through ref(): its only parent is
    int_workforce_start, so `dbt build` runs it right after the start and it gates every model of the year. -#}
{%- set start = ref('int_workforce_start') %}
{%- set snapshots = start.incorporate(path={'identifier': 'fct_workforce_snapshot'}) %}
{%- if var('simulation_year') > var('start_year') %}
select coalesce(previous.employee_id, current_start.employee_id) as employee_id,
       previous.employee_id is null as only_in_start, current_start.employee_id is null as only_in_previous
from (
    select employee_id from {{ snapshots }}
    where simulation_year = ({{ sim_year() }} - 1) and employment_status = 'active'
) as previous
full join (
    select employee_id from {{ start }} where simulation_year = {{ sim_year() }}
) as current_start using (employee_id)
where previous.employee_id is null or current_start.employee_id is null
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
