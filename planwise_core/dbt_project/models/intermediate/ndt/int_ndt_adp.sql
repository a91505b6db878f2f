{#- docs/ndt.md N6-N10 and N13: the ADP test of Y per employee: testing pay and deferrals, the group test,
    leveling, apportionment, catch-up recharacterization, distribution and the match forfeited with it. -#}
{%- set year = var('simulation_year') -%}
{%- set design = ndt_design() -%}
{%- set option = var('plan_ndt_otherwise_excludable') -%}
{%- set formulas = match_formulas() -%}

with population as (
    select * from {{ ref('int_ndt_population') }}
),

contributions as (
    select * from {{ ref('fct_dc_contributions') }}
    where simulation_year = {{ sim_year() }}
),

events as (
    select * from {{ ref('fct_yearly_events') }}
    where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_ndt_enabled')) }}
      and event_type in ('hire', 'promotion', 'raise')
),

opening as (
{%- if year == var('start_year') %}
    select employee_id, current_compensation from {{ ref('int_baseline_workforce') }}
{%- else %}
    select employee_id, full_year_equivalent_compensation as current_compensation
    from {{ previous_year_relation('fct_workforce_snapshot') }}
    where simulation_year = ({{ sim_year() }} - 1) and employment_status = 'active'
{%- endif %}
),

salary_changes as (
    -- The salary in force from each date (opening or hire salary, then raises and promotions), for C_e (N6).
    select p.employee_id, greatest(p.employee_hire_date, {{ year_start() }}) as change_date, -1 as sequence,
           coalesce(opening.current_compensation, hire.compensation_amount) as salary
    from population as p
    left join opening using (employee_id)
    left join (select employee_id, compensation_amount from events where event_type = 'hire') as hire using (employee_id)
    union all
    select employee_id, effective_date, event_sequence, compensation_amount
    from events where event_type in ('promotion', 'raise')
),

eligible_pay as (
    select employee_id,
           {{ div_half_up('sum(' ~ cents('salary') ~ ' * greatest(date_diff(\'day\', seg_from, seg_to) + 1, 0))',
                          days_in_year(), wide=false) }} as eligible_comp_cents
    from (
        select c.employee_id, c.salary,
               greatest(c.change_date, p.eligibility_date) as seg_from,
               least(coalesce(cast(lead(c.change_date) over (partition by c.employee_id order by c.change_date, c.sequence) - 1 as date),
                              p.last_day), p.last_day) as seg_to
        from salary_changes as c
        inner join population as p using (employee_id)
    ) as segments
    group by employee_id
),

based as (
    select
        p.*,
        {{ cents('c.plan_comp') }} as comp_cents,
        {{ cents('c.match_comp') }} as match_comp_cents,
        {{ cents('c.core_comp') }} as core_comp_cents,
        {{ cents('c.comp_limit_401a17') }} as l17_cents,
        {{ cents('c.employee_deferral') }} as d_cents,
        {{ cents('c.catch_up_deferral') }} as cu_cents,
        {{ cents('c.catch_up_limit') }} as cul_cents,
        {{ cents('c.employer_match') }} as m_cents,
        {{ cents('c.employer_core') }} as k_cents,
        {{ to_bp('c.vested_pct_match') }} as vested_match_bp,
        c.match_eligible,
        c.core_eligible,
        {{ cents('c.vested_amount') }} as vested_cents,
        {{ cents('c.match_balance_boy') }} + {{ cents('c.core_balance_boy') }} as employer_balance_boy_cents,
        coalesce(e.eligible_comp_cents, 0) as eligible_comp_cents,
        {{ band_key(var('plan_match_graded_by'), 'p.current_age', 'p.current_tenure') }} as match_band_key,
        date_diff('day', greatest(p.employee_hire_date, {{ year_start() }}), p.last_day) + 1 as days_employed,
        {{ days_in_year() }} as days_in_year
    from population as p
    inner join contributions as c using (employee_id)
    left join eligible_pay as e using (employee_id)
),

ratios as materialized (
    select
        based.*,
        case when is_eligible then least({{ 'eligible_comp_cents' if var('plan_ndt_testing_compensation') == 'eligible_period' else 'comp_cents' }}, l17_cents) end
            as adp_comp_cents,
        case when is_eligible then d_cents - cu_cents end as adp_deferral_cents,
        case
            when not is_eligible then null
            {%- if option == 'none' %}
            else 'main'
            {%- elif option == 'exclude_nhce' %}
            when is_hce or not is_otherwise_excludable then 'main'
            {%- else %}
            when not is_otherwise_excludable then 'main' else 'excludable'
            {%- endif %}
        end as adp_test_group
    from based
),

members as materialized (
    select employee_id, adp_test_group as grp, is_hce,
           case when adp_comp_cents > 0 then {{ div_half_up('10000 * adp_deferral_cents', 'adp_comp_cents', wide=false) }} else 0 end as r,
           adp_deferral_cents as amount, adp_comp_cents as comp
    from ratios
    where adp_test_group is not null
),

{{ ndt_correction('adp', design['adp_exempt'], design['reason']) }},

corrected as (
    select
        ratios.*,
        members.r as adr_bp,
        coalesce(apportioned.x, 0) as adp_excess_cents,
        least(coalesce(apportioned.x, 0), greatest(0, cul_cents - cu_cents)) as adp_recharacterized_cents
    from ratios
    left join members using (employee_id)
    left join apportioned using (employee_id)
),

final as (
    select
        corrected.*,
        adp_excess_cents - adp_recharacterized_cents as adp_distributed_cents,
        {%- if var('plan_match_enabled') %}
        case when m_cents > 0 and adp_excess_cents > 0 then least(m_cents, {{ div_half_up(
            match_by_band('amount', 'match_band_key',
                'greatest(0, d_cents' ~ (' - cu_cents' if not var('plan_match_catch_up') else '')
                ~ ' - (adp_excess_cents - adp_recharacterized_cents)'
                ~ (' - adp_recharacterized_cents' if not var('plan_match_catch_up') else '') ~ ')',
                'least(match_comp_cents, l17_cents)', '1'), '100000000') }})
             else m_cents end as match_after_adp_cents
        {%- else %}
        m_cents as match_after_adp_cents
        {%- endif %}
    from corrected
)

select * from final
