{#- A non-negative ratio of exact integers rounded half up to 6 decimals (NULL when the denominator is 0). -#}
{% macro ratio(numerator, denominator) -%}
case when ({{ denominator }}) > 0
     then cast(cast({{ div_half_up('cast(' ~ numerator ~ ' as hugeint) * 1000000', denominator) }} as decimal(18, 0)) * 0.000001 as decimal(12, 6)) end
{%- endmacro %}
