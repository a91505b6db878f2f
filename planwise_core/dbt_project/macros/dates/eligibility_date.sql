{#- Plan eligibility: the later of hire + waiting period and the day the minimum age is reached; never after an
    enrollment (a census participant is in the plan, whatever the age and service rules say: docs/domain.md step 8). -#}
{% macro eligibility_date(birth_date, hire_date, enrollment_date=none) -%}
{%- if enrollment_date is not none %}least({% endif -%}
greatest(
  cast({{ hire_date }} + to_days({{ var('waiting_period_days') }}) as date),
  cast({{ birth_date }} + to_years({{ var('minimum_age') }}) as date)
)
{%- if enrollment_date is not none %}, {{ enrollment_date }}){% endif %}
{%- endmacro %}
