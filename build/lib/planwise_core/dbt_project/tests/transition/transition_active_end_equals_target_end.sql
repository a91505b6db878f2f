{{ config(tags=["year_start"]) }}
{#- The year just completed ended exactly at its target head count. One row per mismatch. -#}
-- depends_on: {{ ref('int_workforce_requirements') }}
-- depends_on: {{ ref('fct_workforce_snapshot') }}
{%- set from_year = var('simulation_year') - 1 %}
{%- if var('simulation_year') > var('start_year') %}
select requirements.simulation_year, requirements.target_end_headcount, count(snapshot.employee_id) as active_end
from {{ ref('int_workforce_requirements') }} as requirements
left join {{ ref('fct_workforce_snapshot') }} as snapshot
    on snapshot.simulation_year = requirements.simulation_year and snapshot.employment_status = 'active'
where requirements.simulation_year = {{ from_year }}
group by all
having count(snapshot.employee_id) <> requirements.target_end_headcount
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
