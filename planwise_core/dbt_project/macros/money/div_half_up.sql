{#- n / d rounded half up, for n >= 0 and d > 0, as a BIGINT: the one rounding of an amount (dc_plan 2.3).
    ``wide`` computes in HUGEINT for numerators that can pass 2^63 (DuckDB raises on a BIGINT overflow, it never wraps). -#}
{% macro div_half_up(n, d, wide=true) -%}
{%- if wide -%}
cast((cast({{ n }} as hugeint) * 2 + cast({{ d }} as hugeint)) // (cast({{ d }} as hugeint) * 2) as bigint)
{%- else -%}
((cast({{ n }} as bigint) * 2 + cast({{ d }} as bigint)) // (cast({{ d }} as bigint) * 2))
{%- endif -%}
{%- endmacro %}
