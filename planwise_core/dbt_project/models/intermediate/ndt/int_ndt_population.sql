{#- docs/ndt.md N1-N4 and N17: one row per snapshot row of Y with the look-back pay, HCE and key status, the
    statutory entry date and the balances carried from Y-1 (or the census). Empty while NDT is off.
    One CTE (read three times), every other step a subquery: DuckDB parses and binds a query with many CTEs, or
    with WITHs inside WITHs (as every ephemeral model is in its reader), far slower than the same steps as
    subqueries (docs/performance.md). -#}
{%- set first = var('simulation_year') == var('start_year') -%}
{%- set last_year = '(' ~ sim_year() ~ ' - 1)' -%}
{%- set election = var('plan_ndt_top_paid_group_election') -%}

with previous_population as (
    -- Everyone with a row of Y-1 and their pay of Y-1 (N1): the census actives and their base-year wages in Y0.
{%- if first %}
    select
        employee_id, employee_birth_date, employee_hire_date, ownership_pct, is_officer,
        {{ div_half_up(cents('employee_gross_compensation') ~ " * (date_diff('day', greatest(employee_hire_date, "
            ~ year_start(last_year) ~ "), " ~ year_end(last_year) ~ ") + 1)", days_in_year(last_year), wide=false) }}
            as pay_cents,
        cast(null as decimal(18, 2)) as opening_compensation,  -- the first year's opening salary is the baseline's
        false as was_key, cast(null as bigint) as deferral_balance_cents
    from {{ ref('stg_census') }}
    where employee_hire_date <= {{ year_end(last_year) }}
      and (employee_termination_date is null or employee_termination_date > {{ year_end(last_year) }})
{%- else %}
    select
        s.employee_id, s.employee_birth_date, s.employee_hire_date,
        coalesce(census.ownership_pct, 0) as ownership_pct, coalesce(census.is_officer, false) as is_officer,
        {{ cents('c.plan_comp') }} as pay_cents,
        -- the salary in force on Jan 1 of Y (int_ndt_adp's eligible-period pay): last year's active row's
        case when s.employment_status = 'active' then s.full_year_equivalent_compensation end as opening_compensation,
        -- the state carried from Y-1's NDT row (N3, N17): one such row per snapshot row of Y-1
        coalesce(n.is_key or n.is_former_key, false) as was_key,
        {{ cents('n.deferral_balance_eoy') }} as deferral_balance_cents
    from {{ previous_year_relation('fct_workforce_snapshot') }} as s
    inner join {{ previous_year_relation('fct_dc_contributions') }} as c
        on c.employee_id = s.employee_id and c.simulation_year = {{ last_year }}
    left join {{ ref('stg_census') }} as census on census.employee_id = s.employee_id
    left join {{ previous_year_relation('fct_ndt_employee') }} as n
        on n.employee_id = s.employee_id and n.simulation_year = {{ last_year }}
    where s.simulation_year = {{ last_year }}
{%- endif %}
)

select
    final.*,
    final.statutory_entry_date > final.last_day as is_otherwise_excludable
from (
    select
        employee_id, employee_birth_date, employee_hire_date, termination_date, eligibility_date, is_eligible,
        current_age, current_tenure, last_day, lookback_cents, ownership_pct, is_officer,
        case when {{ sql_literal(election) }} and lookback_cents is not null
             then coalesce(in_group, false) end as in_top_paid_group,
        ownership_pct > 0.05
            or (coalesce(lookback_cents > hce_414q * 100, false)
                and (not {{ sql_literal(election) }} or coalesce(in_group, false)))
            as is_hce,
        case when lookback_cents is null then null else key_reason end as key_reason,
        lookback_cents is not null and key_reason is not null as is_key,
        not (lookback_cents is not null and key_reason is not null) and was_key as is_former_key,
        least(
            make_date(year(m_date) + 1, 1, 1),
            cast(m_date + to_months(6) as date)
        ) as statutory_entry_date,
        deferral_balance_boy_cents,
        opening_compensation
    from (
        select *, greatest({{ ndt_anniversary('employee_birth_date', 21) }},
                           {{ ndt_anniversary('employee_hire_date', 1) }}) as m_date
        from (
            select
                snap.employee_id,
                snap.employee_birth_date,
                snap.employee_hire_date,
                snap.termination_date,
                snap.eligibility_date,
                snap.is_eligible,
                snap.current_age,
                snap.current_tenure,
                least(coalesce(snap.termination_date, {{ year_end() }}), {{ year_end() }}) as last_day,
                previous_population.pay_cents as lookback_cents,
                previous_population.opening_compensation,
{%- if first %}
                coalesce(census.ownership_pct, 0) as ownership_pct,
                coalesce(census.is_officer, false) as is_officer,
{%- else %}
                -- After the first year everyone of Y from the census was in Y-1's snapshot (the start population
                -- is the census's actives; a new hire's id is never a census id): its census columns came with it.
                coalesce(previous_population.ownership_pct, 0) as ownership_pct,
                coalesce(previous_population.is_officer, false) as is_officer,
{%- endif %}
                top_paid.in_group,
                previous_keys.key_reason,
                coalesce(previous_population.was_key, false) as was_key,
{%- if first %}
                coalesce({{ cents('census.employee_deferral_balance') }}, 0) as deferral_balance_boy_cents,
{%- else %}
                coalesce(previous_population.deferral_balance_cents, 0) as deferral_balance_boy_cents,
{%- endif %}
                thresholds.hce_414q
            from (
                select * from {{ ref('fct_workforce_snapshot') }}
                where simulation_year = {{ sim_year() }} and {{ sql_literal(var('plan_ndt_enabled')) }}
            ) as snap
            left join previous_population using (employee_id)
{%- if first %}
            left join {{ ref('stg_census') }} as census using (employee_id)
{%- endif %}
            left join (
                -- N2: the first div_half_up(20 * counted, 100) of the ranking by pay (those not counted still rank).
                -- Only the election reads it: without it the ranking is not computed at all.
{%- if election %}
                select employee_id,
                       row_number() over (order by pay_cents desc, employee_id) <= (2 * 20 * counted.n + 100) // 200
                           as in_group
                from previous_population
                cross join (
                    select count(*) - count(*) filter (where {{ ndt_not_counted('employee_birth_date',
                               'employee_hire_date', last_year) }}) as n
                    from previous_population
                ) as counted
{%- else %}
                select cast(null as varchar) as employee_id, cast(null as boolean) as in_group where false
{%- endif %}
            ) as top_paid using (employee_id)
            left join ({{ ndt_key_test('previous_population', last_year) }}) as previous_keys using (employee_id)
            left join (
                select hce_414q from {{ ref('int_ndt_thresholds_by_year') }} where limit_year = {{ last_year }}
            ) as thresholds on true
        ) as joined
    ) as dated
) as final
