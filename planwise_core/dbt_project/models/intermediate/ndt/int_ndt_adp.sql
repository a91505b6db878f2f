{#- docs/ndt.md N6-N10 and N13: the ADP test of Y per employee: testing pay and deferrals, the group test,
    leveling, apportionment, catch-up recharacterization, distribution and the match forfeited with it.
    CTEs only for the steps read more than once, the others subqueries (see int_ndt_population). -#}
{%- set design = ndt_design() -%}
{%- set eligible_period = var('plan_ndt_testing_compensation') == 'eligible_period' -%}
{%- set formulas = match_formulas() -%}
{#- Days from a date (or the eligibility date, when later) to the last day employed, none when after it. -#}
{%- set days_from = "greatest(date_diff('day', greatest(DATE, p.eligibility_date), p.last_day) + 1, 0)" -%}
{%- set first = var('simulation_year') == var('start_year') -%}
{#- The salary in force on Jan 1: the baseline's in the first year, else last year's active snapshot row's
    (int_ndt_population's opening_compensation). -#}
{%- set opening = 'opening.current_compensation' if first else 'p.opening_compensation' -%}

with
ratios as materialized (
    select
        ranked.*,
        case when adp_test_group is not null then
            case when adp_comp_cents > 0 then {{ div_half_up('10000 * adp_deferral_cents', 'adp_comp_cents', wide=false) }} else 0 end
        end as adr_bp
    from (
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
{%- if eligible_period %}
                -- C_e (N6): the salary in force on each day while eligible, summed in cent-days. The opening (or hire)
                -- salary counts from the later of Jan 1 and the hire date; each raise or promotion then adds the
                -- change of salary from its date on (each change carries the salary before it as
                -- previous_compensation, so the sum of salary x days per segment telescopes: no window over the
                -- salary changes, docs/ndt.md#pipeline). The year's changes come as one list per employee.
                {{ div_half_up('coalesce(' ~ cents('coalesce(' ~ opening ~ ', changed.hire_compensation)') ~ ' * '
                               ~ days_from | replace('DATE', 'greatest(p.employee_hire_date, ' ~ year_start() ~ ')')
                               ~ ', 0) + coalesce(list_sum(list_transform(changed.changes, lambda x: x.delta * '
                               ~ days_from | replace('DATE', 'x.effective_date') ~ ')), 0)', days_in_year(), wide=false) }}
                    as eligible_comp_cents,
{%- else %}
                0 as eligible_comp_cents,
{%- endif %}
                {{ band_key(var('plan_match_graded_by'), 'p.current_age', 'p.current_tenure') }} as match_band_key,
                date_diff('day', greatest(p.employee_hire_date, {{ year_start() }}), p.last_day) + 1 as days_employed,
                {{ days_in_year() }} as days_in_year
            from {{ ref('int_ndt_population') }} as p
            inner join {{ ref('fct_dc_contributions') }} as c
                on p.employee_id = c.employee_id and c.simulation_year = {{ sim_year() }}
{%- if eligible_period %}
{%- if first %}
            left join {{ ref('int_baseline_workforce') }} as opening on p.employee_id = opening.employee_id
{%- endif %}
            left join (
                select employee_id,
                       any_value(compensation_amount) filter (where event_type = 'hire') as hire_compensation,
                       list(struct_pack(delta := {{ cents('compensation_amount') }} - {{ cents('previous_compensation') }},
                                        effective_date := effective_date))
                           filter (where event_type in ('promotion', 'raise')) as changes
                from {{ ref('fct_yearly_events') }}
                where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_ndt_enabled')) }}
                  and event_type in ('hire', 'promotion', 'raise')
                group by employee_id
            ) as changed on p.employee_id = changed.employee_id
{%- endif %}
        ) as based
    ) as ranked
),

members as materialized (
    select employee_id, adp_test_group as grp, is_hce, adr_bp as r, adp_deferral_cents as amount, adp_comp_cents as comp
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
        coalesce(apportioned.x, 0) as adp_excess_cents,
        least(coalesce(apportioned.x, 0), greatest(0, cul_cents - cu_cents)) as adp_recharacterized_cents
    from ratios
    left join apportioned using (employee_id)
) as corrected
