{#- Plan eligibility: the later of hire + waiting period and the day the minimum age is reached. -#}
{% macro eligibility_date(birth_date, hire_date) -%}
greatest(
  cast({{ hire_date }} + to_days({{ var('waiting_period_days') }}) as date),
  cast({{ birth_date }} + to_years({{ var('minimum_age') }}) as date)
)
{%- endmacro %}
