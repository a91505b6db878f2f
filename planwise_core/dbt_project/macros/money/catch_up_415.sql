{#- R10: the catch-up part of deferral d given match m and core k: the part of d above the lower of the 402(g)
    limit and the 415 room left by the employer money (never more than the catch-up limit). Computed once, on the
    amounts before the correction: catch-up is not an annual addition, so the correction never lowers it
    (docs/plan_money.md). -#}
{% macro catch_up_415(d, m, k) -%}
least(catch_up_limit_cents, greatest(0, ({{ d }}) - least(limit_402g_cents, greatest(0, limit_415_cents - ({{ m }}) - ({{ k }})))))
{%- endmacro %}
