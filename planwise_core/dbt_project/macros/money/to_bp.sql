{#- A rate (a fraction, as a column or a var) in integer basis points, rounded half up once (dc_plan 2.3).
    A number with at most four decimals (a configured rate such as 0.03 or 1.5) is a whole number of basis points:
    written as that BIGINT (to_bp_value, exact for such a number), the value the SQL below gives, without the
    decimal arithmetic DuckDB would bind again at every use (docs/performance.md, "Models without rows and folded
    rates"). -#}
{% macro to_bp(rate) -%}
{%- if rate is number and modules.re.fullmatch('-?[0-9]+(\\.[0-9]{1,4})?', rate | string) -%}
cast({{ to_bp_value(rate) }} as bigint)
{%- else -%}
{{ round_half_up('cast(' ~ rate ~ ' as decimal(18, 10)) * 10000') }}
{%- endif -%}
{%- endmacro %}
