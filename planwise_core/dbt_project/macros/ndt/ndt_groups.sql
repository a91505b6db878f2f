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
    where simulation_year = ({{ sim_year() }} - 1) and test = '{{ test }}'
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
