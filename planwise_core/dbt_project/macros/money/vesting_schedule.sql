{#- A source's vested basis points at 0..100 years of service, from its preset (stg_vesting_schedules) or the custom
    var: a step function, the fraction of the largest key at or below the service (0 before the first key). -#}
{% macro vesting_schedule(source) -%}
{%- set custom = var('plan_' ~ source ~ '_vesting_custom') -%}
with steps as (
{%- if var('plan_' ~ source ~ '_vesting_schedule') == 'custom' %}
    select * from (values
        {%- for step in custom %}
        ({{ step['years'] }}, {{ to_bp(step['vested']) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as custom_steps(service_years, vested_bp)
{%- else %}
    select service_years, vested_bp from {{ ref('stg_vesting_schedules') }}
    where schedule = '{{ var('plan_' ~ source ~ '_vesting_schedule') }}'
{%- endif %}
)
select years.service_years, coalesce(max(steps.vested_bp), 0) as vested_bp
from range(0, 101) as years(service_years)
left join steps on steps.service_years <= years.service_years
group by years.service_years
{%- endmacro %}
