{#- Whether a source's eligibility is no later than the deferrals' (waiting period, minimum age, immediate entry), as safe harbor requires (docs/ndt.md N5). -#}
{% macro ndt_entry_not_later(prefix) -%}
{%- set waiting = var(prefix ~ '_waiting_period_days') -%}
{%- set age = var(prefix ~ '_minimum_age') -%}
{{ return((waiting is none or waiting <= var('waiting_period_days')) and (age is none or age <= var('minimum_age'))
          and var(prefix ~ '_entry') == 'immediate') }}
{%- endmacro %}
