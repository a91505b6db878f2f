{{ config(tags=["foundation"]) }}
{#- R1: every simulated year has its IRS limits row (a year before the first published one is a config error). -#}
{%- if var('plan_enabled') %}
select simulation_year
from range({{ sim_start_year() }}, {{ sim_end_year() }} + 1) as years (simulation_year)
where simulation_year not in (select limit_year from {{ ref('int_irs_limits_by_year') }})
{%- else %}
select 1 as nothing_to_check where false
{%- endif %}
