{{ config(tags=["year_start"]) }}
{#- Continuing employees of the year just completed are exactly one year older and longer in service. -#}
{#- Reads the completed year's tables beside the start population, not through ref(): its only parent is
    int_workforce_start, so `dbt build` runs it right after the start and it gates every model of the year. -#}
{%- set start = ref('int_workforce_start') %}
{%- set snapshots = start.incorporate(path={'identifier': 'fct_workforce_snapshot'}) %}
{#- Only from the third simulated year (the completed year must have a simulated year before it): a condition in
    SQL, not in Jinja, so the compiled engine's one year-agnostic compile serves every later year. -#}
{%- if var('simulation_year') > var('start_year') %}
select completed.employee_id
from {{ snapshots }} as completed
inner join {{ snapshots }} as earlier using (employee_id)
where completed.simulation_year = ({{ sim_year() }} - 1)
  and earlier.simulation_year = ({{ sim_year() }} - 2)
  and ({{ sim_year() }} - 1) > {{ sim_start_year() }}
  and earlier.employment_status = 'active'
  and (completed.current_age <> earlier.current_age + 1 or completed.current_tenure <> earlier.current_tenure + 1)
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
