{#- docs/ndt.md N11-N12: the ACP test of Y per employee on the match kept after the ADP correction, with its
    leveling, apportionment and the vested / forfeited split of the excess.
    CTEs only for the steps read more than once, the others subqueries (see int_ndt_population). -#}
{%- set design = ndt_design() -%}
{%- set true_up = var('plan_match_calculation') == 'annual_true_up' -%}
{%- set acp_rows = 'limited' if design['match_over_100'] else 'counted' -%}
{%- set acr = "case when acp_comp_cents > 0 then " ~ div_half_up('10000 * acp_match_cents', 'acp_comp_cents', wide=false)
              ~ " else 0 end" -%}

with counted as materialized (
    select scoped.*,
           case when acp_eligible then greatest(0, match_after_adp_cents
               - {{ div_half_up(design['disregard'] ~ ' * acp_comp_cents', '10000') }}) end as acp_match_cents
    from (
        select
            ratios.*,
            case when acp_eligible then least({{ 'match_comp_cents' if var('plan_ndt_testing_compensation') == 'eligible_period' else 'comp_cents' }}, l17_cents) end
                as acp_comp_cents,
            {{ ndt_test_group('acp_eligible') }} as acp_test_group
        from (
            select
                adp.*,
                {{ sql_literal(var('plan_match_enabled')) }} and match_eligible
                    {%- if true_up %} and {{ allocation_met('match') }}{% endif %} as acp_eligible
            from {{ ref('int_ndt_adp') }} as adp
        ) as ratios
    ) as scoped
),

{%- if design['match_over_100'] %}
limited as (
    -- An NHCE's match counts up to the greatest of 5 % of pay, the deferral, and twice the representative rate
    -- times the deferral.
    select counted.* exclude (acp_match_cents),
           case when not counted.is_hce and counted.acp_test_group is not null and rep.rep_g is not null
                then least(counted.acp_match_cents, greatest({{ div_half_up('500 * counted.acp_comp_cents', '10000') }},
                     counted.d_cents, {{ div_half_up('2 * rep.rep_g * counted.d_cents', '6000000') }}))
                else counted.acp_match_cents end as acp_match_cents
    from counted
    left join (
        select grp,
               greatest(max(case when pos = (n + 1) // 2 then mr_g end),
                        coalesce(min(case when employed_dec31 then mr_g end), 0)) as rep_g
        from (
            select *, row_number() over (partition by grp order by mr_g desc, employee_id) as pos,
                   count(*) over (partition by grp) as n
            from (
                -- N11 disproportionate match: each tested NHCE's match rate at a 6 % deferral, g(600 bp) in bp x bp.
                select employee_id, acp_test_group as grp, termination_date is null as employed_dec31,
                       {{ match_by_band('rate', 'match_band_key', '600') }} as mr_g
                from counted
                where acp_test_group is not null and not is_hce and d_cents > 0
            ) as rates
        ) as ranked
        group by grp
    ) as rep on rep.grp = counted.acp_test_group
),
{%- endif %}

members as materialized (
    select employee_id, acp_test_group as grp, is_hce, {{ acr }} as r, acp_match_cents as amount, acp_comp_cents as comp
    from {{ acp_rows }}
    where acp_test_group is not null
),

{{ ndt_correction('acp', design['acp_exempt'], design['reason']) }}

select
    {{ acp_rows }}.*,
    case when acp_test_group is not null then {{ acr }} end as acr_bp,
    coalesce(apportioned.x, 0) as acp_excess_cents,
    {{ div_half_up('coalesce(apportioned.x, 0) * vested_match_bp', '10000') }} as acp_distributed_cents
from {{ acp_rows }}
left join apportioned using (employee_id)
