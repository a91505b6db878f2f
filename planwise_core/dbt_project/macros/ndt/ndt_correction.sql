{#- docs/ndt.md N7-N9: the correction chain the ADP and ACP tests share, as sibling CTEs (no inner WITH): groups
    (N7), the failing groups' HCEs, leveling (N8), each HCE's excess, the total per group and its dollar
    apportionment (N9). ``members`` is (employee_id, grp, is_hce, r, amount, comp); the CTE ``apportioned`` gives
    (employee_id, x). -#}
{% macro ndt_correction(test, exempt, exempt_reason) -%}
{{ ndt_groups('groups', 'members', test, exempt, exempt_reason) }},

hces as materialized (
    select members.* from members inner join groups using (grp) where members.is_hce and groups.status = 'fail'
),

levels as (
    {{ ndt_level('hces', 'groups') }}
),

excess as (
    select hces.employee_id, hces.grp,
           case when levels.lvl_k * hces.r > levels.lvl_p
                then greatest(0, hces.amount - {{ div_half_up('levels.lvl_p * hces.comp', '10000 * levels.lvl_k') }})
                else 0 end as excess
    from hces inner join levels using (grp)
),

totals as (
    select grp, sum(excess) as total from excess group by grp
),

{{ ndt_apportion('apportioned', 'hces', 'totals') }}
{%- endmacro %}
