{#- N16: the highest key rate (D - cu + M + K) / min(C, L17) of the year's keys, capped at 3 %, as an exact fraction
    rate_num / rate_den (the max is found on a 10^-15 integer key; the fraction kept is the key's own). -#}
{% macro ndt_key_rate(source) -%}
{%- set num = 'cast(d_cents - cu_cents + m_cents + k_cents as hugeint)' -%}
{%- set den = 'least(comp_cents, l17_cents)' -%}
select
    case when coalesce(bool_or(100 * {{ num }} >= 3 * {{ den }}), false) then 3
         else coalesce(arg_max({{ num }}, {{ num }} * 1000000000000000 // {{ den }}), 0) end as rate_num,
    case when coalesce(bool_or(100 * {{ num }} >= 3 * {{ den }}), false) then 100
         else coalesce(arg_max({{ den }}, {{ num }} * 1000000000000000 // {{ den }}), 1) end as rate_den
from {{ source }}
where is_key and {{ den }} > 0
{%- endmacro %}
