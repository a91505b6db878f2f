{{ config(tags=["year_start"]) }}
{#- The year just completed ended exactly at its target head count. One row per mismatch. -#}
{#- Reads the completed year's tables beside the start population, not through ref(): its only parent is
    int_workforce_start, so `dbt build` runs it right after the start and it gates every model of the year. -#}
{%- set start = ref('int_workforce_start') %}
{%- set snapshots = start.incorporate(path={'identifier': 'fct_workforce_snapshot'}) %}
{%- set requirements_table = start.incorporate(path={'identifier': 'int_workforce_requirements'}) %}
{%- if var('simulation_year') > var('start_year') %}
select requirements.simulation_year, requirements.target_end_headcount, count(snapshot.employee_id) as active_end
from {{ requirements_table }} as requirements
left join {{ snapshots }} as snapshot
    on snapshot.simulation_year = requirements.simulation_year and snapshot.employment_status = 'active'
where requirements.simulation_year = ({{ sim_year() }} - 1)
group by all
having count(snapshot.employee_id) <> requirements.target_end_headcount
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
