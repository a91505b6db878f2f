{#- A draw in [0, 1): the first 16 hex digits of sha256(seed|id|year|stream) / 2^64. Stable on every machine and DuckDB version. -#}
{#- Compiled year-agnostic (docs/compiled_engine.md), the seed is DuckDB's variable random_seed, cast to the same
    digits the literal has, so one compile serves every seed. -#}
{% macro uniform_draw(id_expr, year_expr, stream) -%}
{%- set seed = "cast(getvariable('random_seed') as varchar) || '|'" if var('year_agnostic', false)
               else "'" ~ var("random_seed") ~ "|'" -%}
(('0x' || left(sha256({{ seed }} || {{ id_expr }} || '|' || cast({{ year_expr }} as varchar) || '|{{ stream }}'), 16))::ubigint / 18446744073709551616.0)
{%- endmacro %}
