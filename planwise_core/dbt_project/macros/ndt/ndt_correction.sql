{#- docs/ndt.md N7-N9: the correction chain the ADP and ACP tests share: groups (N7), the failing groups' HCEs,
    leveling (N8), each HCE's excess, the total per group and its dollar apportionment (N9). ``members`` is
    (employee_id, grp, is_hce, r, amount, comp). Emits the CTEs groups, hces, apportioned_ordered and apportioned
    (employee_id, x), the single-use steps as subqueries (see ndt_groups). -#}
{% macro ndt_correction(test, exempt, exempt_reason) -%}
{{ ndt_groups('groups', 'members', test, exempt, exempt_reason) }},

hces as materialized (
    select members.* from members inner join groups using (grp) where members.is_hce and groups.status = 'fail'
),

{{ ndt_apportion('apportioned', 'hces', '(
    select excess.grp, sum(excess.excess) as total
    from (
        select hces.grp,
               case when levels.lvl_k * hces.r > levels.lvl_p
                    then greatest(0, hces.amount - ' ~ div_half_up('levels.lvl_p * hces.comp', '10000 * levels.lvl_k') ~ ')
                    else 0 end as excess
        from hces
        inner join (' ~ ndt_level('hces', 'groups') ~ ') as levels using (grp)
    ) as excess
    group by excess.grp
)') }}
{%- endmacro %}
