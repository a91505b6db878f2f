{#- docs/ndt.md N7: per test group, the averages (one half-up division each), the applicable NHCE average A,
    the two-prong limit and the status. ``members``: (grp, is_hce, r) of the test's eligible members, r in bp. -#}
{% macro ndt_groups(members, test, exempt, exempt_reason) -%}
{%- set year = var('simulation_year') -%}
{%- set prior = var('plan_ndt_testing_method') == 'prior_year' -%}
{%- set configured = var('plan_ndt_prior_year_nhce_' ~ test) -%}
with counted as (
    select grp,
           count(*) filter (where is_hce) as hce_count,
           count(*) filter (where not is_hce) as nhce_count,
           case when count(*) filter (where is_hce) > 0 then
               {{ div_half_up('sum(r) filter (where is_hce)', 'count(*) filter (where is_hce)') }} end as hce_avg,
           case when count(*) filter (where not is_hce) > 0 then
               {{ div_half_up('sum(r) filter (where not is_hce)', 'count(*) filter (where not is_hce)') }} end
               as nhce_avg_cy
    from {{ members }}
    group by grp
),
{%- if prior and year != var('start_year') %}
prior_averages as (
    select test_group as grp, {{ round_half_up('nhce_avg_current_year * 10000') }} as prior_avg
    from {{ previous_year_relation('fct_ndt_summary') }}
    where simulation_year = {{ year - 1 }} and test = '{{ test }}'
),
{%- endif %}
applicable as (
    select counted.*,
{%- if not prior %}
           nhce_avg_cy as a, 'current_year' as basis
{%- elif year != var('start_year') %}
           prior_averages.prior_avg as a, 'prior_year' as basis
{%- elif configured is not none %}
           {{ ndt_bp(configured) }} as a, 'configured' as basis
{%- else %}
           300 as a, 'deemed_3pct' as basis
{%- endif %}
    from counted
{%- if prior and year != var('start_year') %}
    left join prior_averages using (grp)
{%- endif %}
),
limited as (
    select applicable.*,
           greatest((5 * a) // 4, least(2 * a, a + 200)) as limit_bp,
           case when a is null then null when (5 * a) // 4 >= least(2 * a, a + 200) then 'basic' else 'alternative' end
               as applied_prong
    from applicable
)
select limited.*,
       case when {{ sql_literal(exempt) }} then 'exempt'
            when a is null or hce_count = 0 then 'pass'
            when hce_avg <= limit_bp then 'pass' else 'fail' end as status,
       case when {{ sql_literal(exempt) }} then {{ sql_literal(exempt_reason) }}
            when a is null then 'no_eligible_nhce'
            when hce_count = 0 then 'no_eligible_hce' end as status_reason
from limited
{%- endmacro %}

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

{#- N9 apportionment by amount: ``hces`` (employee_id, grp, amount); ``totals`` (grp, total) with total > 0.
    Returns employee_id, x (the amount taken from that HCE; the cent left over goes by employee_id). -#}
{% macro ndt_apportion(hces, totals) -%}
with ordered as (
    select h.employee_id, h.grp, h.amount, t.total,
           row_number() over w as k,
           sum(h.amount) over (w rows between unbounded preceding and current row) - t.total as s,
           coalesce(lead(h.amount) over w, 0) as a_next
    from {{ hces }} as h
    inner join {{ totals }} as t using (grp)
    where t.total > 0
    window w as (partition by h.grp order by h.amount desc, h.employee_id)
),
stop as (
    select grp, arg_min(k, k) as k_stop, arg_min(s, k) as s_stop from ordered where s >= k * a_next group by grp
),
leveled as (
    select o.employee_id, o.amount, stop.s_stop // stop.k_stop as q,
           stop.s_stop - stop.k_stop * (stop.s_stop // stop.k_stop) as rest, stop.k_stop,
           row_number() over (partition by o.grp order by o.employee_id) as by_id
    from ordered as o
    inner join stop using (grp)
    where o.k <= stop.k_stop
)
select employee_id,
       amount - (q + case when by_id > k_stop - rest then 1 else 0 end) as x
from leveled
{%- endmacro %}

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
