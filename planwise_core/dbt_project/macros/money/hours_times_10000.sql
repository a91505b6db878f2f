{#- Estimated hours worked in ``days`` calendar days, times 10,000 and times the days in the year (exact integer). -#}
{% macro hours_times_10000(days) -%}
(cast({{ days }} as bigint) * 52 * {{ round_half_up('cast(' ~ var('plan_hours_per_week') ~ ' as decimal(18, 4)) * 10000') }})
{%- endmacro %}
