{#- docs/ndt.md N6-N10 and N13: the ADP test of Y per employee: testing pay and deferrals, the group test,
    leveling, apportionment, catch-up recharacterization, distribution and the match forfeited with it.
    CTEs only for the steps read more than once, the others subqueries (see int_ndt_population). -#}
{%- set design = ndt_design() -%}
{%- set eligible_period = var('plan_ndt_testing_compensation') == 'eligible_period' -%}
{%- set formulas = match_formulas() -%}
{#- Days from a date (or the eligibility date, when later) to the last day employed, none when after it. -#}
{%- set days_from = "greatest(date_diff('day', greatest(DATE, p.eligibility_date), p.last_day) + 1, 0)" -%}

with
{%- if eligible_period %}
events as (
    select employee_id, event_type, effective_date, previous_compensation, compensation_amount
    from {{ ref('fct_yearly_events') }}
    where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_ndt_enabled')) }}
      and event_type in ('hire', 'promotion', 'raise')
),
{%- endif %}

ratios as materialized (
    select
        based.*,
        case when is_eligible then least({{ 'eligible_comp_cents' if eligible_period else 'comp_cents' }}, l17_cents) end
            as adp_comp_cents,
        case when is_eligible then d_cents - cu_cents end as adp_deferral_cents,
        {{ ndt_test_group('is_eligible') }} as adp_test_group
    from (
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
            {{ 'coalesce(e.eligible_comp_cents, 0)' if eligible_period else '0' }} as eligible_comp_cents,
            {{ band_key(var('plan_match_graded_by'), 'p.current_age', 'p.current_tenure') }} as match_band_key,
            date_diff('day', greatest(p.employee_hire_date, {{ year_start() }}), p.last_day) + 1 as days_employed,
            {{ days_in_year() }} as days_in_year
        from {{ ref('int_ndt_population') }} as p
        inner join {{ ref('fct_dc_contributions') }} as c
            on p.employee_id = c.employee_id and c.simulation_year = {{ sim_year() }}
{%- if eligible_period %}
        left join (
            -- C_e (N6): the salary in force on each day while eligible, summed in cent-days. The opening (or hire)
            -- salary counts from the later of Jan 1 and the hire date; each raise or promotion then adds the change
            -- of salary from its date on (each change carries the salary before it as previous_compensation, so the
            -- sum of salary x days per segment telescopes: no window over the salary changes, docs/ndt.md#pipeline).
            select pop.employee_id,
                   {{ div_half_up('coalesce(' ~ cents('coalesce(opening.current_compensation, hire.compensation_amount)')
                                  ~ ' * ' ~ days_from | replace('p.', 'pop.') | replace('DATE', 'greatest(pop.employee_hire_date, ' ~ year_start() ~ ')')
                                  ~ ', 0) + coalesce(raised.cent_days, 0)', days_in_year(), wide=false) }}
                       as eligible_comp_cents
            from {{ ref('int_ndt_population') }} as pop
            left join (
{%- if var('simulation_year') == var('start_year') %}
                select employee_id, current_compensation from {{ ref('int_baseline_workforce') }}
{%- else %}
                select employee_id, full_year_equivalent_compensation as current_compensation
                from {{ previous_year_relation('fct_workforce_snapshot') }}
                where simulation_year = {{ sim_year() }} - 1 and employment_status = 'active'
{%- endif %}
            ) as opening using (employee_id)
            left join (select employee_id, compensation_amount from events where event_type = 'hire') as hire
                using (employee_id)
            left join (
                select e.employee_id,
                       sum(({{ cents('e.compensation_amount') }} - {{ cents('e.previous_compensation') }})
                           * {{ days_from | replace('p.', 'changed.') | replace('DATE', 'e.effective_date') }}) as cent_days
                from events as e
                inner join {{ ref('int_ndt_population') }} as changed using (employee_id)
                where e.event_type in ('promotion', 'raise')
                group by e.employee_id
            ) as raised using (employee_id)
        ) as e on p.employee_id = e.employee_id
{%- endif %}
    ) as based
),

members as materialized (
    select employee_id, adp_test_group as grp, is_hce,
           case when adp_comp_cents > 0 then {{ div_half_up('10000 * adp_deferral_cents', 'adp_comp_cents', wide=false) }} else 0 end as r,
           adp_deferral_cents as amount, adp_comp_cents as comp
    from ratios
    where adp_test_group is not null
),

{{ ndt_correction('adp', design['adp_exempt'], design['reason']) }}

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
from (
    select
        ratios.*,
        members.r as adr_bp,
        coalesce(apportioned.x, 0) as adp_excess_cents,
        least(coalesce(apportioned.x, 0), greatest(0, cul_cents - cu_cents)) as adp_recharacterized_cents
    from ratios
    left join members using (employee_id)
    left join apportioned using (employee_id)
) as corrected
