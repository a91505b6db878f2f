{#- N8 leveling: for each failing group, the first k with P_k >= k * r_(k+1) over the HCE ratios sorted desc.
    ``hces``: (employee_id, grp, r, amount, comp) of the group's HCEs; ``groups``: (grp, status, limit_bp, hce_count).
    Returns grp, lvl_k, lvl_p (the level is lvl_p / lvl_k bp). -#}
{% macro ndt_level(hces, groups) -%}
select grp, arg_min(k, k) as lvl_k, arg_min(p, k) as lvl_p
from (
    select h.grp,
           row_number() over w as k,
           g.hce_count * g.limit_bp - coalesce(sum(h.r) over (w rows between 1 following and unbounded following), 0) as p,
           coalesce(lead(h.r) over w, 0) as r_next
    from {{ hces }} as h
    inner join {{ groups }} as g using (grp)
    where g.status = 'fail'
    window w as (partition by h.grp order by h.r desc, h.employee_id)
) as steps
where p >= k * r_next
group by grp
{%- endmacro %}
