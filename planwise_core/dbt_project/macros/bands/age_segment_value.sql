{#- Pick the per-age-segment var (young <31, mid_career 31-45, mature 46-55, senior 56+) for an age. -#}
{% macro age_segment_value(age_expr, var_prefix) -%}
case
  when {{ age_expr }} < 31 then {{ var(var_prefix ~ '_young') }}
  when {{ age_expr }} <= 45 then {{ var(var_prefix ~ '_mid_career') }}
  when {{ age_expr }} <= 55 then {{ var(var_prefix ~ '_mature') }}
  else {{ var(var_prefix ~ '_senior') }}
end
{%- endmacro %}
