{#- N13: for each (grp, q, hce_avg) candidate, whether the ADP group passes when every NHCE of the group gets a
    QNEC of q bp of testing pay, and what it costs. -#}
{% macro ndt_qnec_try(candidates) -%}
select grp, q, hce_avg, greatest((5 * a) // 4, least(2 * a, a + 200)) >= hce_avg as passes, cost
from (
    select c.grp, c.q, c.hce_avg,
           {{ div_half_up('sum(case when m.comp > 0 then ' ~ div_half_up('10000 * (m.amount + ' ~ div_half_up('c.q * m.comp', '10000') ~ ')', 'm.comp') ~ ' else 0 end)', 'count(*)') }} as a,
           sum({{ div_half_up('c.q * m.comp', '10000') }}) as cost
    from {{ candidates }} as c
    inner join adp_members as m on m.grp = c.grp and not m.is_hce
    group by c.grp, c.q, c.hce_avg
) as tried
{%- endmacro %}
