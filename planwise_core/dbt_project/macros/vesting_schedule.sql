{#- A source's vesting steps (service_years, vested_bp): its preset from stg_vesting_schedules, or the custom var. -#}
{% macro vesting_schedule(source) -%}
{%- set custom = var('plan_' ~ source ~ '_vesting_custom') -%}
{%- if var('plan_' ~ source ~ '_vesting_schedule') == 'custom' -%}
select * from (values
    {%- for step in custom %}
    ({{ step['years'] }}, {{ to_bp(step['vested']) }}){{ ',' if not loop.last }}
    {%- endfor %}
) as steps(service_years, vested_bp)
{%- else -%}
select service_years, vested_bp from {{ ref('stg_vesting_schedules') }}
where schedule = '{{ var('plan_' ~ source ~ '_vesting_schedule') }}'
{%- endif -%}
{%- endmacro %}
