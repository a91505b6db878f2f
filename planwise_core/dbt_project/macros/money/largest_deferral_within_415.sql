{#- R10 step 2: the largest whole-cent deferral d in [cu, high] with (d - cu) + M(d) + K <= L, M(d) the match
    recomputed on d; cu itself when none fits (the regular part goes to 0, the catch-up stays). A bisection of 27
    steps (2^27 cents = $1.3M, far above any 402(g) + catch-up limit) run as one list_reduce; the accumulator packs
    low * 2^32 + high. -#}
{% macro largest_deferral_within_415(high, key) -%}
{%- set low = '(acc // 4294967296)' -%}
{%- set top = '(acc % 4294967296)' -%}
{%- set mid = '((' ~ low ~ ' + ' ~ top ~ ' + 1) // 2)' -%}
(list_reduce(range(27), (acc, step) ->
    case when {{ excess_415(mid, match_for_deferral(mid, key), 'core_cents') }} <= 0
         then {{ mid }} * 4294967296 + {{ top }}
         else {{ low }} * 4294967296 + {{ mid }} - 1 end,
    cast(catch_up_cents * 4294967296 + ({{ high }}) as bigint)) // 4294967296)
{%- endmacro %}
