{#- n / d rounded half up, for n >= 0 and d > 0, in exact HUGEINT arithmetic: the one rounding of an amount (dc_plan 2.3). -#}
{% macro div_half_up(n, d) -%}
((cast({{ n }} as hugeint) * 2 + cast({{ d }} as hugeint)) // (cast({{ d }} as hugeint) * 2))
{%- endmacro %}
