{#- R7 allocation conditions of a source ('match' or 'core'): last day (or retirement-age exemption) and hours. -#}
{% macro allocation_met(source) -%}
{%- set exemption = var('plan_' ~ source ~ '_retirement_age_exemption') -%}
((not {{ sql_literal(var('plan_' ~ source ~ '_last_day_rule')) }}
  or termination_date is null or termination_date >= {{ year_end() }}
  {%- if exemption is not none %} or current_age >= {{ exemption }}{% endif %})
 and {{ hours_times_10000('days_employed') }} >= {{ round_half_up('cast(' ~ var('plan_' ~ source ~ '_minimum_hours') ~ ' as decimal(18, 4)) * 10000') }} * days_in_year)
{%- endmacro %}
