with contributions as (
    select * from "planwise"."main"."fct_dc_contributions"
    where simulation_year = 2027
),

snapshot as (
    select * from "planwise"."main"."fct_workforce_snapshot"
    where simulation_year = 2027
),

limits as (
    select * from "planwise"."main"."int_irs_limits_by_year"
    where limit_year = 2027
),

opening_pool as (
    -- The pool available in Y: the configured opening pool in the first year, then last year's closing pool.
    select coalesce(max(cast(cast(floor((forfeiture_pool_eoy * 100) + 0.5) as bigint) as bigint)), 0) as pool_cents, false as is_prior_unknown
    from "main"."fct_dc_plan_summary"
    where simulation_year = 2026
),

people as (
    select
        contributions.*,
        snapshot.termination_date is null and snapshot.is_eligible as is_eligible_eoy,
        cast(cast(floor((employee_deferral * 100) + 0.5) as bigint) as bigint) as d_cents,
        cast(floor((cast(deferral_rate_eoy as decimal(18, 10)) * 10000) + 0.5) as bigint) as eoy_bp
    from contributions
    inner join snapshot using (employee_id)
),

totals as (
    select
        count(*) as headcount,
        count(*) filter (where is_eligible_eoy) as eligible_eoy,
        count(*) filter (where is_eligible_eoy and eoy_bp > 0) as participants_eoy,
        count(*) filter (where d_cents > 0) as contributors,
        coalesce(sum(eoy_bp) filter (where is_eligible_eoy and eoy_bp > 0), 0) as participant_bp_sum,
        coalesce(sum(d_cents) filter (where d_cents > 0), 0) as contributor_deferral_cents,
        coalesce(sum(least(cast(cast(floor((deferral_comp * 100) + 0.5) as bigint) as bigint), cast(cast(floor((comp_limit_401a17 * 100) + 0.5) as bigint) as bigint))) filter (where d_cents > 0), 0)
            as contributor_capped_comp_cents,
        coalesce(sum(cast(cast(floor((employee_deferral * 100) + 0.5) as bigint) as bigint)), 0) as total_employee_deferrals_cents,
        coalesce(sum(cast(cast(floor((pre_tax_deferral * 100) + 0.5) as bigint) as bigint)), 0) as total_pre_tax_cents,
        coalesce(sum(cast(cast(floor((roth_deferral * 100) + 0.5) as bigint) as bigint)), 0) as total_roth_cents,
        coalesce(sum(cast(cast(floor((catch_up_deferral * 100) + 0.5) as bigint) as bigint)), 0) as total_catch_up_cents,
        coalesce(sum(cast(cast(floor((refunded_deferral * 100) + 0.5) as bigint) as bigint)), 0) as total_refunded_cents,
        coalesce(sum(cast(cast(floor((employer_match * 100) + 0.5) as bigint) as bigint)), 0) as total_match_cents,
        coalesce(sum(cast(cast(floor((employer_core * 100) + 0.5) as bigint) as bigint)), 0) as total_core_cents,
        coalesce(sum(cast(cast(floor((employer_total * 100) + 0.5) as bigint) as bigint)), 0) as total_employer_gross_cents,
        coalesce(sum(cast(cast(floor((forfeited_amount * 100) + 0.5) as bigint) as bigint)), 0) as forfeitures_generated_cents,
        coalesce(sum(cast(cast(floor((plan_comp * 100) + 0.5) as bigint) as bigint)), 0) as payroll_cents,
        count(*) filter (where limit_402g_reached) as at_402g_limit_count,
        count(*) filter (where reduced_415) as reduced_415_count
    from people
),

pooled as (
    select
        totals.*,
        opening_pool.pool_cents,
        opening_pool.is_prior_unknown,
        least(opening_pool.pool_cents, totals.total_employer_gross_cents) as applied_cents,
        0 as reallocated_cents
    from totals
    cross join opening_pool
),

final as (
    select
        2027 as simulation_year,
        headcount,
        eligible_eoy,
        participants_eoy,
        case when (eligible_eoy) > 0
     then cast(cast(cast((cast(cast(participants_eoy as hugeint) * 1000000 as hugeint) * 2 + cast(eligible_eoy as hugeint)) // (cast(eligible_eoy as hugeint) * 2) as bigint) as decimal(18, 0)) * 0.000001 as decimal(12, 6)) end as participation_rate,
        contributors,
        case when participants_eoy > 0
             then cast(cast(cast(cast((cast(participant_bp_sum as hugeint) * 2 + cast(participants_eoy as hugeint)) // (cast(participants_eoy as hugeint) * 2) as bigint) as decimal(18, 0)) * 0.0001 as decimal(9, 6)) as decimal(9, 4)) end
            as avg_deferral_rate,
        case when (contributor_capped_comp_cents) > 0
     then cast(cast(cast((cast(cast(contributor_deferral_cents as hugeint) * 1000000 as hugeint) * 2 + cast(contributor_capped_comp_cents as hugeint)) // (cast(contributor_capped_comp_cents as hugeint) * 2) as bigint) as decimal(18, 0)) * 0.000001 as decimal(12, 6)) end as effective_deferral_rate,
        cast(cast(total_employee_deferrals_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_employee_deferrals,
        cast(cast(total_pre_tax_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_pre_tax,
        cast(cast(total_roth_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_roth,
        cast(cast(total_catch_up_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_catch_up,
        cast(cast(total_refunded_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_refunded,
        cast(cast(total_match_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_match,
        cast(cast(total_core_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_core,
        cast(cast(total_employer_gross_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as total_employer_gross,
        cast(cast(forfeitures_generated_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as forfeitures_generated,
        cast(cast(pool_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as forfeiture_pool_boy,
        case when not is_prior_unknown then cast(cast(applied_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) end as forfeitures_applied,
        cast(cast(reallocated_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as forfeitures_reallocated,
        is_prior_unknown as forfeitures_prior_unknown,
        cast(cast(pool_cents - applied_cents - reallocated_cents + forfeitures_generated_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as forfeiture_pool_eoy,
        cast(cast(total_employer_gross_cents - applied_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as net_employer_cost,
        cast(cast(payroll_cents as decimal(18, 0)) * 0.01 as decimal(18, 2)) as payroll,
        case when (payroll_cents) > 0
     then cast(cast(cast((cast(cast(total_employer_gross_cents as hugeint) * 1000000 as hugeint) * 2 + cast(payroll_cents as hugeint)) // (cast(payroll_cents as hugeint) * 2) as bigint) as decimal(18, 0)) * 0.000001 as decimal(12, 6)) end as employer_cost_pct_payroll,
        case when (payroll_cents) > 0
     then cast(cast(cast((cast(cast(total_employer_gross_cents - applied_cents as hugeint) * 1000000 as hugeint) * 2 + cast(payroll_cents as hugeint)) // (cast(payroll_cents as hugeint) * 2) as bigint) as decimal(18, 0)) * 0.000001 as decimal(12, 6)) end as net_employer_cost_pct_payroll,
        at_402g_limit_count,
        case when (contributors) > 0
     then cast(cast(cast((cast(cast(at_402g_limit_count as hugeint) * 1000000 as hugeint) * 2 + cast(contributors as hugeint)) // (cast(contributors as hugeint) * 2) as bigint) as decimal(18, 0)) * 0.000001 as decimal(12, 6)) end as at_402g_limit_share,
        reduced_415_count,
        limits.elective_deferral_402g,
        limits.catch_up_50,
        limits.catch_up_60_63,
        limits.compensation_401a17,
        limits.annual_additions_415c,
        limits.hce_414q,
        limits.roth_catch_up_wage_threshold,
        limits.ss_wage_base,
        limits.status as limits_status
    from pooled
    cross join limits
    where true
)

select * from final