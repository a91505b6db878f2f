{#- docs/ndt.md N11-N12: the ACP test of Y per employee on the match kept after the ADP correction, with its
    leveling, apportionment and the vested / forfeited split of the excess. -#}
{%- set design = ndt_design() -%}
{%- set option = var('plan_ndt_otherwise_excludable') -%}
{%- set true_up = var('plan_match_calculation') == 'annual_true_up' -%}

with adp as (
    select * from {{ ref('int_ndt_adp') }}
),

ratios as (
    select
        adp.*,
        {{ sql_literal(var('plan_match_enabled')) }} and match_eligible
            {%- if true_up %} and {{ allocation_met('match') }}{% endif %} as acp_eligible
    from adp
),

scoped as (
    select
        ratios.*,
        case when acp_eligible then least({{ 'match_comp_cents' if var('plan_ndt_testing_compensation') == 'eligible_period' else 'comp_cents' }}, l17_cents) end
            as acp_comp_cents,
        case
            when not acp_eligible then null
            {%- if option == 'none' %}
            else 'main'
            {%- elif option == 'exclude_nhce' %}
            when is_hce or not is_otherwise_excludable then 'main'
            {%- else %}
            when not is_otherwise_excludable then 'main' else 'excludable'
            {%- endif %}
        end as acp_test_group
    from ratios
),

counted as (
    select scoped.*,
           case when acp_eligible then greatest(0, match_after_adp_cents
               - {{ div_half_up(design['disregard'] ~ ' * acp_comp_cents', '10000') }}) end as acp_match_cents
    from scoped
),

members as (
    select employee_id, acp_test_group as grp, is_hce,
           case when acp_comp_cents > 0 then {{ div_half_up('10000 * acp_match_cents', 'acp_comp_cents') }} else 0 end as r,
           acp_match_cents as amount, acp_comp_cents as comp
    from counted
    where acp_test_group is not null
),

groups as (
    {{ ndt_groups('members', 'acp', design['acp_exempt'], design['reason']) }}
),

hces as (
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

apportioned as (
    {{ ndt_apportion('hces', 'totals') }}
)

select
    counted.*,
    members.r as acr_bp,
    coalesce(apportioned.x, 0) as acp_excess_cents,
    {{ div_half_up('coalesce(apportioned.x, 0) * vested_match_bp', '10000') }} as acp_distributed_cents
from counted
left join members using (employee_id)
left join apportioned using (employee_id)
