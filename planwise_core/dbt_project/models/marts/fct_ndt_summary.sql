{{ config(tags=["ndt"], meta={"empty_unless": "plan_ndt_enabled"}) }}
{#- One row per (year, test, test group) while NDT is on (docs/ndt.md, Outputs): the ADP and ACP tests with the
    leveled level, totals and the uniform-QNEC alternative (N7-N13), coverage (N14), 401(a)(4) of the core (N15)
    and top-heavy (N16). Averages are recomputed from the stored ratios of fct_ndt_employee. -#}
{%- set design = ndt_design() -%}
{%- set groups_list = ['main', 'excludable'] if var('plan_ndt_otherwise_excludable') == 'disaggregate' else ['main'] -%}
{%- set current = var('plan_ndt_testing_method') == 'current_year' -%}
{%- set components = ['deferral', 'match', 'core'] -%}

-- Materialized: read by every test below, computed once; only the columns read below are kept.
with employees as materialized (
    select e.employee_id, e.simulation_year, e.is_hce, e.is_key, e.is_former_key, e.is_otherwise_excludable,
           e.adp_eligible, e.adp_test_group, e.adr, e.adp_deferrals, e.adp_testing_comp, e.adp_excess,
           e.adp_recharacterized, e.adp_distributed, e.match_forfeited_adp,
           e.acp_eligible, e.acp_test_group, e.acr, e.acp_match, e.acp_testing_comp, e.acp_excess, e.acp_distributed,
           e.acp_forfeited, e.core_allocation_rate, e.deferral_balance_boy, e.th_required, e.th_shortfall,
           c.core_eligible, c.hours_estimated, c.match_balance_boy, c.core_balance_boy,
           s.termination_date, s.current_age, s.employee_hire_date,
           {{ cents('c.employee_deferral') }} as d_cents, {{ cents('c.catch_up_deferral') }} as cu_cents,
           {{ cents('c.employer_match') }} as m_cents, {{ cents('c.employer_core') }} as k_cents,
           {{ cents('c.plan_comp') }} as comp_cents, {{ cents('c.comp_limit_401a17') }} as l17_cents,
           date_diff('day', greatest(s.employee_hire_date, {{ year_start() }}),
                     least(coalesce(s.termination_date, {{ year_end() }}), {{ year_end() }})) + 1 as days_employed,
           {{ days_in_year() }} as days_in_year
    from {{ ref('fct_ndt_employee') }} as e
    inner join {{ ref('fct_dc_contributions') }} as c using (employee_id, simulation_year)
    inner join {{ ref('fct_workforce_snapshot') }} as s using (employee_id, simulation_year)
    where e.simulation_year = {{ sim_year() }}
),

{%- for test in ['adp', 'acp'] %}
{%- set amount = 'adp_deferrals' if test == 'adp' else 'acp_match' %}
{{ test }}_members as (
    select employee_id, {{ test }}_test_group as grp, is_hce, {{ round_half_up(('adr' if test == 'adp' else 'acr') ~ ' * 10000') }} as r,
           {{ cents(amount) }} as amount, {{ cents(test ~ '_testing_comp') }} as comp,
           {{ cents(test ~ '_excess') }} as excess_cents
    from employees where {{ test }}_test_group is not null
),

{{ ndt_groups(test ~ '_groups', test ~ '_members', test, design[test ~ '_exempt'], design['reason']) }},

{{ test }}_levels as (
    {{ ndt_level('(
        select m.* from ' ~ test ~ '_members as m inner join ' ~ test ~ '_groups as g using (grp)
        where m.is_hce and g.status = \'fail\'
    )', test ~ '_groups') }}
),

{{ test }}_totals as (
    select {{ test }}_test_group as grp,
           sum({{ cents(test ~ '_excess') }}) as total_excess,
           {%- if test == 'adp' %}
           sum({{ cents('adp_recharacterized') }}) as total_recharacterized,
           sum({{ cents('adp_distributed') }}) as total_distributed,
           sum({{ cents('match_forfeited_adp') }}) as total_forfeited,
           {%- else %}
           0 as total_recharacterized,
           sum({{ cents('acp_distributed') }}) as total_distributed,
           sum({{ cents('acp_forfeited') }}) as total_forfeited,
           {%- endif %}
           count(*) filter (where {{ test }}_excess > 0) as hces_corrected
    from employees where {{ test }}_test_group is not null
    group by {{ test }}_test_group
),
{%- endfor %}

{#- N13: the smallest q (bp) for which a uniform QNEC to every NHCE passes. The NHCE average only grows with q,
    so the first passing q is found exactly by narrowing: every 1,000 bp, then every 100, 10 and 1 bp below the
    first success of the step before (40 trials instead of 10,000). -#}
{%- set steps = [1000, 100, 10, 1] %}
{%- set ns = namespace(tried='') %}
{%- for step in steps %}
{%- if loop.first %}
{%- set candidates = '(
        select g.grp, q.q, g.hce_avg
        from adp_groups as g
        cross join (select cast(range as bigint) * ' ~ step ~ ' as q from range(1, ' ~ (10000 // step + 1) ~ ')) as q
        where g.status = \'fail\' and ' ~ sql_literal(current) ~ '
    )' %}
{%- else %}
{%- set candidates = '(
        select t.grp, t.first_q - ' ~ step ~ ' * cast(range as bigint) as q, t.hce_avg
        from (select grp, min(q) as first_q, any_value(hce_avg) as hce_avg from (' ~ ns.tried ~ ') as tried
              where passes group by grp) as t
        cross join range(0, ' ~ (steps[loop.index - 2] // step) ~ ')
    )' %}
{%- endif %}
{%- set ns.tried = ndt_qnec_try(candidates) %}
{%- endfor %}

qnec as (
    select grp, arg_min(q, q) as q, arg_min(cost, q) as cost from ({{ ns.tried }}) as tried where passes group by grp
),

{%- set test_rows_sql %}
{%- for test in ['adp', 'acp'] %}
{%- for grp in groups_list %}
    select
        '{{ test }}' as test, '{{ grp }}' as test_group,
        {%- if test == 'acp' and not var('plan_match_enabled') %}
        'not_applicable' as status, 'match_disabled' as status_reason,
        {%- else %}
        coalesce(g.status, 'pass') as status,
        case when g.grp is null then {{ "'" ~ design['reason'] ~ "'" if design[test ~ '_exempt'] else "'no_eligible_hce'" }}
             else g.status_reason end as status_reason,
        {%- endif %}
        '{{ var("plan_ndt_testing_method") }}' as testing_method,
        coalesce(g.hce_count, 0) as hce_count, coalesce(g.nhce_count, 0) as nhce_count,
        g.hce_avg, g.a as nhce_avg, g.nhce_avg_cy, g.basis as nhce_basis, g.limit_bp, g.applied_prong,
        case when g.hce_avg is not null and g.limit_bp is not null then g.limit_bp - g.hce_avg end as margin_bp,
        l.lvl_p, l.lvl_k,
        coalesce(t.total_excess, 0) as total_excess, coalesce(t.total_recharacterized, 0) as total_recharacterized,
        coalesce(t.total_distributed, 0) as total_distributed, coalesce(t.total_forfeited, 0) as total_forfeited,
        coalesce(t.hces_corrected, 0) as hces_corrected,
        {%- if test == 'adp' %} qnec.q as qnec_q, qnec.cost as qnec_cost{% else %} null::bigint as qnec_q, null::bigint as qnec_cost{% endif %}
    from (select 1) as one
    left join {{ test }}_groups as g on g.grp = '{{ grp }}'
    left join {{ test }}_levels as l on l.grp = '{{ grp }}'
    left join {{ test }}_totals as t on t.grp = '{{ grp }}'
    {%- if test == 'adp' %}
    left join qnec on qnec.grp = '{{ grp }}'
    {%- endif %}
    {%- if not loop.last or test == 'adp' %}
    union all
    {%- endif %}
{%- endfor %}
{%- endfor %}
{%- endset %}

coverage_people as (
    select employee_id, is_hce, case when is_otherwise_excludable then 'excludable' else 'main' end as grp,
           adp_eligible as deferral_benefits, acp_eligible as match_benefits,
           coalesce(core_eligible, false) and {{ allocation_met('core') }} as core_benefits,
           termination_date is not null and hours_estimated <= 500 as short_leaver,
           core_allocation_rate
    from employees
),

coverage_counts as (
    -- N14 in one pass: per component and group, the counts of the tested (a short leaver who does not benefit is
    -- not counted for the match and the core) and of those benefiting.
    select
    {%- for component in components %}
    {%- for grp in ['main', 'excludable'] %}
    {%- set tested = "grp = '" ~ grp ~ "'" ~ ('' if component == 'deferral' else ' and not (' ~ component ~ '_benefits = false and short_leaver)') %}
        count(*) filter (where {{ tested }} and is_hce) as {{ component }}_{{ grp }}_hce_count,
        count(*) filter (where {{ tested }} and not is_hce) as {{ component }}_{{ grp }}_nhce_count,
        count(*) filter (where {{ tested }} and is_hce and {{ component }}_benefits) as {{ component }}_{{ grp }}_hce_benefiting,
        count(*) filter (where {{ tested }} and not is_hce and {{ component }}_benefits) as {{ component }}_{{ grp }}_nhce_benefiting
        {{- ',' if not (loop.last and component == 'core') }}
    {%- endfor %}
    {%- endfor %}
    from coverage_people
)

{%- set coverage_sql %}
{%- for component in components %}
{%- set on = component == 'deferral' or var('plan_' ~ component ~ '_enabled') %}
{%- for grp in ['main', 'excludable'] %}
    select 'coverage_{{ component }}' as test, '{{ grp }}' as test_group, {{ sql_literal(on) }} as is_on,
           '{{ component }}_disabled' as off_reason,
           {%- for column in ['hce_count', 'nhce_count', 'hce_benefiting', 'nhce_benefiting'] %}
           {{ component }}_{{ grp }}_{{ column }} as {{ column }}{{ ',' if not loop.last }}
           {%- endfor %}
    from coverage_counts
    {%- if not loop.last or component != 'core' %}
    union all
    {%- endif %}
{%- endfor %}
{%- endfor %}
{%- endset %}

{%- set rate_groups_sql %}
    -- N15: for every HCE rate of the core's main population, the group of everyone at that rate or above: the
    -- counts at each rate, summed from the highest rate down.
    select rate, hce_benefiting, nhce_benefiting, totals.hce_count, totals.nhce_count
    from (
        select rate, at_rate_hce,
               cast(sum(at_rate_hce) over downward as bigint) as hce_benefiting,
               cast(sum(at_rate_nhce) over downward as bigint) as nhce_benefiting
        from (
            select core_allocation_rate as rate, count(*) filter (where is_hce) as at_rate_hce,
                   count(*) filter (where not is_hce) as at_rate_nhce
            from coverage_people
            where grp = 'main' and not (core_benefits = false and short_leaver) and core_allocation_rate is not null
            group by core_allocation_rate
        ) as at_rate
        window downward as (order by rate desc rows between unbounded preceding and current row)
    ) as cumulative
    cross join (select count(*) filter (where is_hce) as hce_count, count(*) filter (where not is_hce) as nhce_count
                from coverage_people where grp = 'main' and not (core_benefits = false and short_leaver)) as totals
    where at_rate_hce > 0
{%- endset %}

{%- set people_sql %}
    select employee_id, employee_hire_date, is_key, is_former_key,
           {{ cents('deferral_balance_boy') }} + {{ cents('match_balance_boy') }} + {{ cents('core_balance_boy') }}
               as balance_cents
    from employees
{%- endset %}

{%- set balances_sql %}
    {{ ndt_top_heavy_balances('(' ~ people_sql ~ ')') }}
{%- endset %}

{%- set key_rate_sql %}
    {{ ndt_key_rate('employees') }}
{%- endset %}

{%- set top_heavy_row_sql %}
    select
        (select count(*) from employees where is_key) as key_count,
        balances.key_cents, balances.total_cents,
        5 * balances.key_cents > 3 * balances.total_cents as is_top_heavy,
        key_rate.rate_num, key_rate.rate_den,
        (select count(*) from employees where th_required > 0) as recipients,
        (select coalesce(sum({{ cents('th_shortfall') }}), 0) from employees) as minimum_cost
    from ({{ balances_sql }}) as balances cross join ({{ key_rate_sql }}) as key_rate
{%- endset %}

{%- set all_rows_sql %}
    select test, test_group,
           status, status_reason, testing_method, hce_count, nhce_count,
           {{ bp_ratio('hce_avg') }} as hce_avg, {{ bp_ratio('nhce_avg') }} as nhce_avg,
           {{ bp_ratio('nhce_avg_cy') }} as nhce_avg_current_year, nhce_basis,
           {{ bp_ratio('limit_bp') }} as limit_pct, applied_prong,
           cast(cast(margin_bp as decimal(18, 0)) * 0.0001 as decimal(7, 4)) as margin,
           case when lvl_k is not null then cast(cast({{ div_half_up('cast(lvl_p as hugeint) * 100', 'lvl_k') }} as decimal(18, 0)) * 0.000001 as decimal(9, 6)) end
               as highest_permitted,
           {%- for column in ['total_excess', 'total_recharacterized', 'total_distributed'] %}
           case when status <> 'not_applicable' then {{ dollars(column) }} end as {{ column }},
           {%- endfor %}
           case when status <> 'not_applicable' then {{ dollars('total_forfeited') }} end as total_match_forfeited,
           case when status <> 'not_applicable' then cast(hces_corrected as integer) end as hces_corrected,
           {{ bp_ratio('qnec_q') }} as qnec_rate,
           {{ dollars('qnec_cost') }} as qnec_cost,
           null::integer as hce_benefiting, null::integer as nhce_benefiting, null::decimal(9, 6) as ratio,
           null::integer as key_count, null::decimal(18, 2) as key_balance, null::decimal(18, 2) as total_balance,
           null::boolean as is_top_heavy, null::decimal(9, 6) as minimum_rate, null::integer as minimum_recipients,
           null::decimal(18, 2) as minimum_cost,
           case when status <> 'not_applicable' then {{ dollars('total_excess') }} else 0 end as total_correction
    from ({{ test_rows_sql }}) as test_rows
    union all
    select test, test_group,
           case when not is_on then 'not_applicable'
                when hce_benefiting = 0 or nhce_count = 0
                     or 10 * nhce_benefiting * hce_count >= 7 * nhce_count * hce_benefiting then 'pass' else 'fail' end,
           case when not is_on then off_reason end,
           null, hce_count, nhce_count, null, null, null, null, null, null, null, null,
           null, null, null, null, null, null, null,
           hce_benefiting, nhce_benefiting,
           case when is_on and nhce_count > 0 and hce_benefiting > 0 and hce_count > 0
                then {{ ratio('cast(nhce_benefiting as hugeint) * hce_count', 'cast(nhce_count as hugeint) * hce_benefiting') }} end,
           null, null, null, null, null, null, null, 0
    from ({{ coverage_sql }}) as coverage
    union all
    select 'nondiscrimination_core', 'main',
           {%- if not var('plan_core_enabled') %}
           'not_applicable', 'core_disabled',
           {%- elif var('plan_core_graded_by') == 'none' %}
           'pass', 'uniform_allocation',
           {%- else %}
           case when coalesce(bool_and(hce_benefiting = 0 or nhce_count = 0
                     or 10 * nhce_benefiting * hce_count >= 7 * nhce_count * hce_benefiting), true) then 'pass' else 'fail' end,
           'general_test',
           {%- endif %}
           null, null, null, null, null, null, null, null, null, null, null,
           null, null, null, null, null, null, null, null, null,
           {%- if var('plan_core_enabled') and var('plan_core_graded_by') != 'none' %}
           min(case when nhce_count > 0 and hce_benefiting > 0 and hce_count > 0
                    then {{ ratio('cast(nhce_benefiting as hugeint) * hce_count', 'cast(nhce_count as hugeint) * hce_benefiting') }} end),
           {%- else %}
           null,
           {%- endif %}
           null, null, null, null, null, null, null, 0
    {%- if var('plan_core_enabled') and var('plan_core_graded_by') != 'none' %}
    from ({{ rate_groups_sql }}) as rate_groups
    {%- else %}
    from (select 1) as one
    {%- endif %}
    union all
    select 'top_heavy', 'main',
           case when {{ sql_literal(design['top_heavy_exempt']) }} then 'exempt'
                when not is_top_heavy then 'pass' when minimum_cost = 0 then 'pass' else 'fail' end,
           case when {{ sql_literal(design['top_heavy_exempt']) }} then {{ sql_literal(design['reason']) }}
                when not is_top_heavy then 'not_top_heavy' when minimum_cost = 0 then 'minimum_met'
                else 'minimum_owed' end,
           null, null, null, null, null, null, null, null, null, null, null,
           null, null, null, null, null, null, null, null, null,
           case when total_cents > 0 then {{ ratio('key_cents', 'total_cents') }} else 0 end,
           cast(key_count as integer), {{ dollars('key_cents') }}, {{ dollars('total_cents') }}, is_top_heavy,
           case when {{ sql_literal(design['top_heavy_exempt']) }} or not is_top_heavy then null
                else cast(cast({{ div_half_up('cast(rate_num as hugeint) * 1000000', 'rate_den') }} as decimal(18, 0)) * 0.000001 as decimal(9, 6)) end,
           cast(recipients as integer), {{ dollars('minimum_cost') }}, {{ dollars('minimum_cost') }}
    from ({{ top_heavy_row_sql }}) as top_heavy_row
{%- endset %}

select
    {{ sim_year() }} as simulation_year,
    test, test_group, status, status_reason, testing_method,
    cast(hce_count as integer) as hce_count, cast(nhce_count as integer) as nhce_count,
    hce_avg, nhce_avg, nhce_avg_current_year, nhce_basis, limit_pct, applied_prong, margin, highest_permitted,
    total_excess, total_recharacterized, total_distributed, total_match_forfeited, hces_corrected,
    qnec_rate, qnec_cost,
    cast(hce_benefiting as integer) as hce_benefiting, cast(nhce_benefiting as integer) as nhce_benefiting,
    cast(ratio as decimal(9, 6)) as ratio, key_count, key_balance, total_balance, is_top_heavy, minimum_rate,
    minimum_recipients, minimum_cost, cast(total_correction as decimal(18, 2)) as total_correction
from ({{ all_rows_sql }}) as all_rows
where {{ sql_literal(var('plan_ndt_enabled')) }}
