{{ config(tags=["year_start"]) }}
{#- Age, tenure, level, pay and plan state of every carried employee equal the previous year-end. -#}
{#- Reads the completed year's tables beside the start population, not through ref(): its only parent is
    int_workforce_start, so `dbt build` runs it right after the start and it gates every model of the year. -#}
{%- set start = ref('int_workforce_start') %}
{%- set snapshots = start.incorporate(path={'identifier': 'fct_workforce_snapshot'}) %}
{%- if var('simulation_year') > var('start_year') %}
select current_start.employee_id
from {{ snapshots }} as previous
inner join {{ start }} as current_start using (employee_id)
where previous.simulation_year = ({{ sim_year() }} - 1)
  and current_start.simulation_year = {{ sim_year() }}
  and (current_start.current_age <> previous.current_age
       or current_start.current_tenure <> previous.current_tenure
       or current_start.level_id <> previous.level_id
       or current_start.current_compensation <> previous.full_year_equivalent_compensation
       or current_start.is_enrolled <> previous.is_enrolled
       or current_start.deferral_rate <> previous.deferral_rate
       or current_start.ever_opted_out <> previous.ever_opted_out)
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
