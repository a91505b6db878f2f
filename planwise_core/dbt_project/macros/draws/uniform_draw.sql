{#- A draw in [0, 1): the first 16 hex digits of sha256(seed|id|year|stream) / 2^64. Stable on every machine and DuckDB version. -#}
{% macro uniform_draw(id_expr, year_expr, stream) -%}
(('0x' || left(sha256('{{ var("random_seed") }}|' || {{ id_expr }} || '|' || cast({{ year_expr }} as varchar) || '|{{ stream }}'), 16))::ubigint / 18446744073709551616.0)
{%- endmacro %}
