"""The twelve invariants of docs/plan_rules.md 2.6 on one 5-year run of a generated census with match, graded core,
auto-escalation, Roth and graded vesting all on (and a binding plan limit on elections, an escalation opt-out
rate, hours-based core vesting and an opening forfeiture pool, so each rule has cases to bite on)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from helpers.invariants import invariant_problems
from helpers.sims import CensusSpec, SimSpec
from helpers.sql import rows, scalar
from helpers.common import draw

YEARS = list(range(2025, 2030))
CENT = Decimal("0.01")
MAX_RATE, CAP, INCREMENT, OPT_OUT = Decimal("0.15"), Decimal("0.10"), Decimal("0.01"), 0.2
CORE_BANDS = [{"min": 0, "max": 5, "rate": 0.03}, {"min": 5, "max": 15, "rate": 0.06}, {"min": 15, "max": None, "rate": 0.12}]
MONEY_PLAN = {
    "plan.deferrals.max_deferral_rate": float(MAX_RATE),
    "plan.deferrals.roth.enabled": True,
    "plan.deferrals.roth.share": 0.25,
    "plan.auto_escalation.enabled": True,
    "plan.auto_escalation.opt_out_rate": OPT_OUT,
    "plan.match.vesting.schedule": "graded_6",
    "plan.core.enabled": True,
    "plan.core.graded_by": "service",
    "plan.core.bands": CORE_BANDS,
    "plan.core.vesting.schedule": "graded_4",
    "plan.core.vesting.service_method": "hours",
    "plan.forfeitures.opening_pool": 5000.0,
}
SPEC = SimSpec.make(CensusSpec.generated(600, 23), end_year=2029, **MONEY_PLAN)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def con(sims):
    run = sims.get(SPEC)
    assert run.result["success"], run.result
    assert run.result["completed_years"] == YEARS
    con = run.connect()
    yield con
    con.close()


def none_of(con, sql: str, params=None):
    """Rows that break a rule (the SQL selects them); an empty list means the rule holds."""
    found = rows(con, sql, params)
    assert found == [], f"{len(found)} violation(s), e.g. {found[:5]}"


def cents(x) -> Decimal:
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


# Contributions joined with the year's limits and the snapshot, the common frame of the checks below.
FRAME = """
    with c as (
        select c.*, l.elective_deferral_402g, l.catch_up_50, l.catch_up_60_63, l.compensation_401a17,
               l.annual_additions_415c, s.termination_date, s.employment_status
        from fct_dc_contributions c
        join int_irs_limits_by_year l on l.limit_year = c.simulation_year
        join fct_workforce_snapshot s using (employee_id, simulation_year))
"""


def test_every_snapshot_row_has_one_money_row_and_the_run_has_every_case(con):
    assert scalar(con, "select count(*) from fct_dc_contributions") == scalar(
        con, "select count(*) from fct_workforce_snapshot")
    none_of(con, """select employee_id, simulation_year from fct_workforce_snapshot
                    anti join fct_dc_contributions using (employee_id, simulation_year)""")
    none_of(con, "select employee_id, simulation_year from fct_dc_contributions group by all having count(*) > 1")
    cases = rows(con, """select count(*) filter (where limit_402g_reached), count(*) filter (where catch_up_deferral > 0),
                                count(*) filter (where reduced_415), count(*) filter (where forfeited_amount > 0),
                                count(*) filter (where escalated), count(*) filter (where roth_deferral > 0),
                                count(*) filter (where employee_deferral < requested_deferral)
                         from fct_dc_contributions""")[0]
    assert all(n > 0 for n in cases), cases


def test_1_deferral_within_its_limits(con):
    none_of(con, FRAME + """select * from c where employee_deferral < 0 or employee_deferral > elective_limit
                             or employee_deferral > requested_deferral
                             or elective_limit <> elective_deferral_402g + catch_up_limit""")
    # D <= cents(max_deferral_rate x Ĉ_def): the plan limit on elections (15 % here) binds for 20 % electors.
    capped = rows(con, "select employee_deferral, least(deferral_comp, comp_limit_401a17) from fct_dc_contributions")
    over = [(d, c) for d, c in capped if d > cents(MAX_RATE * c) + CENT]  # Ĉ_def is shown rounded to the cent
    assert over == []


def test_2_catch_up_by_age_and_the_roth_rule(con):
    none_of(con, FRAME + """select * from c where catch_up_deferral > catch_up_limit
                             or (catch_up_deferral > 0 and age_dec31 < 50)
                             or (catch_up_limit = catch_up_60_63 * 1.0 and catch_up_60_63 <> catch_up_50
                                 and not (age_dec31 between 60 and 63 and simulation_year >= 2025))
                             or (catch_up_limit > 0 and catch_up_limit not in (catch_up_50, catch_up_60_63))""")
    # The Roth catch-up rule (from 2026, prior-year pay above the threshold): all their catch-up is Roth.
    none_of(con, """select c.employee_id, c.simulation_year from fct_dc_contributions c
                    join fct_dc_contributions p on p.employee_id = c.employee_id and p.simulation_year = c.simulation_year - 1
                    join int_irs_limits_by_year l on l.limit_year = c.simulation_year
                    where c.simulation_year >= 2026 and p.plan_comp > l.roth_catch_up_wage_threshold
                      and c.roth_deferral < c.catch_up_deferral""")


def test_3_pre_tax_plus_roth_is_the_deferral_and_amounts_are_whole_cents(con):
    none_of(con, "select * from fct_dc_contributions where pre_tax_deferral + roth_deferral <> employee_deferral")
    money = [r[0] for r in rows(con, """select column_name from (describe fct_dc_contributions)
                                        where column_type = 'DECIMAL(18,2)'""")]
    assert len(money) >= 20
    none_of(con, f"select * from fct_dc_contributions where least({', '.join(money)}) < 0")


def test_4_capped_pay_bounds_the_employer_money(con):
    top_core = max(Decimal(str(b["rate"])) for b in CORE_BANDS)
    none_of(con, f"""select * from fct_dc_contributions
                     where employer_core > {top_core} * comp_limit_401a17
                        or employer_match > round(0.04 * least(match_comp, comp_limit_401a17), 2) + 0.01""")


def test_5_match_and_core_conditions(con):
    # Annual true-up without allocation conditions: M is the true-up basis unless 415 lowered it.
    none_of(con, "select * from fct_dc_contributions where not reduced_415 and employer_match <> match_true_up_basis")
    none_of(con, """select * from fct_dc_contributions
                    where employer_match > 0 and (employee_deferral = 0 or not match_eligible)""")
    # Core: last-day rule (exempt from 65), 1,000 hours, eligibility.
    none_of(con, f"""{FRAME} select * from c where employer_core > 0 and (not core_eligible or hours_estimated < 1000
                     or (termination_date < make_date(simulation_year, 12, 31) and age_dec31 < 65))""")
    assert scalar(con, """select count(*) from fct_dc_contributions c join fct_workforce_snapshot s
                          using (employee_id, simulation_year) where s.termination_date is not null
                          and s.current_age < 65 and c.core_eligible and c.employer_core = 0""") > 0


def test_6_annual_additions_within_415_exactly(con):
    none_of(con, FRAME + """select * from c
                             where annual_additions <> employee_deferral - catch_up_deferral + employer_match + employer_core
                                or limit_415 <> least(plan_comp, annual_additions_415c)
                                or annual_additions > limit_415""")


def test_7_vesting_forfeitures_and_balances_roll_forward(con):
    none_of(con, """select * from fct_dc_contributions
                    where match_balance_eoy + core_balance_eoy
                          <> match_balance_boy + core_balance_boy + employer_match + employer_core
                             - vested_amount - forfeited_amount
                       or vested_pct_match not between 0 and 1 or vested_pct_core not between 0 and 1""")
    none_of(con, FRAME + """select * from c where termination_date is null
                             and (forfeited_amount <> 0 or vested_amount <> 0)""")
    none_of(con, FRAME + """select * from c where termination_date is not null
                             and (match_balance_eoy <> 0 or core_balance_eoy <> 0
                                  or vested_amount + forfeited_amount
                                     <> match_balance_boy + core_balance_boy + employer_match + employer_core)""")
    # Full vesting at normal retirement age: nothing forfeited from 65.
    none_of(con, "select * from fct_dc_contributions where age_dec31 >= 65 and forfeited_amount <> 0")
    # Balances carry: the opening balance of Y is the closing balance of Y-1 (0 for people hired in Y).
    none_of(con, """select c.* from fct_dc_contributions c
                    left join fct_dc_contributions p on p.employee_id = c.employee_id
                         and p.simulation_year = c.simulation_year - 1
                    where c.simulation_year > 2025
                      and (c.match_balance_boy <> coalesce(p.match_balance_eoy, 0)
                           or c.core_balance_boy <> coalesce(p.core_balance_eoy, 0))""")
    # Graded vesting: the match's fraction is graded_6 of elapsed years; the core's graded_4 of 1,000-hour years.
    for pct, schedule in (("vested_pct_match", {0: 0, 1: 0, 2: .2, 3: .4, 4: .6, 5: .8}),):
        got = rows(con, f"""select c.{pct}, {_elapsed_years_sql()} from fct_dc_contributions c
                            join fct_workforce_snapshot s using (employee_id, simulation_year)
                            where s.termination_date is not null and c.age_dec31 < 65""")
        assert got and all(Decimal(str(schedule.get(years, 1))) == v for v, years in got)


def _elapsed_years_sql() -> str:
    return ("(year(s.termination_date) - year(s.employee_hire_date) - case when month(s.termination_date) * 100 "
            "+ day(s.termination_date) < month(s.employee_hire_date) * 100 + day(s.employee_hire_date) then 1 else 0 end)")


def test_8_escalation(con):
    events = rows(con, """select e.employee_id, e.simulation_year, e.effective_date, e.deferral_rate,
                                 p.deferral_rate, s.enrollment_date
                          from fct_yearly_events e
                          join fct_workforce_snapshot s using (employee_id, simulation_year)
                          left join fct_workforce_snapshot p on p.employee_id = e.employee_id
                               and p.simulation_year = e.simulation_year - 1
                          where e.event_type = 'deferral_escalation'""")
    assert len(events) > 50
    seen = set()
    for emp, year, day, new, before, enrolled in events:
        assert (emp, year) not in seen, "at most one escalation per person-year"
        seen.add((emp, year))
        assert (day.month, day.day) == (1, 1)
        if before is not None:  # rate in force on Jan 1: last year's closing rate
            assert 0 < before < CAP and new == min(CAP, before + INCREMENT) > before, (emp, year, before, new)
        enroll_year = max(enrolled.year, 2024)  # census participants count as enrolled in 2024
        assert year - enroll_year >= 1, "the first escalation waits a year after enrollment"
        assert draw(42, emp, max(2025, enroll_year + 1), "escalation_opt_out") >= OPT_OUT, "opted out for good"
    # Who was below the cap, enrolled all year before Jan 1 and never drew the opt-out is escalated.
    missed = rows(con, """select p.employee_id, p.simulation_year + 1, p.enrollment_date from fct_workforce_snapshot p
                          join fct_workforce_snapshot s on s.employee_id = p.employee_id
                               and s.simulation_year = p.simulation_year + 1
                          where p.employment_status = 'active' and p.deferral_rate > 0 and p.deferral_rate < 0.10
                            and not exists (select 1 from fct_yearly_events e where e.employee_id = p.employee_id
                                            and e.simulation_year = p.simulation_year + 1
                                            and e.event_type = 'deferral_escalation')""")
    for emp, year, enrolled in missed:
        enroll_year = max(enrolled.year, 2024)
        assert draw(42, emp, max(2025, enroll_year + 1), "escalation_opt_out") < OPT_OUT, (emp, year)
    # Continuing employees' rates never fall except by an opt-out or a downward match response (R2a, first year).
    none_of(con, """select * from fct_dc_contributions c where deferral_rate_eoy < deferral_rate_boy
                    and not exists (select 1 from fct_yearly_events e where e.employee_id = c.employee_id
                                    and e.simulation_year = c.simulation_year
                                    and (e.event_type = 'opt_out' or e.event_category = 'downward'))""")
    # An escalation on the match response's day builds on the new rate (docs/plan_money.md R2a).
    none_of(con, """select * from fct_yearly_events r join fct_yearly_events e using (employee_id, simulation_year)
                    where r.event_type = 'deferral_match_response' and e.event_type = 'deferral_escalation'
                      and (e.previous_deferral_rate <> r.deferral_rate or e.event_sequence <> r.event_sequence + 1
                           or e.deferral_rate <> least(0.10, r.deferral_rate + 0.01))""")
    assert rows(con, """select count(*) from fct_yearly_events r join fct_yearly_events e
                        using (employee_id, simulation_year) where r.event_type = 'deferral_match_response'
                        and e.event_type = 'deferral_escalation'""")[0][0] > 10
    # The summary counts them (planwise summary, the run JSON, the report's events chart).
    none_of(con, """select s.simulation_year from fct_year_summary s where s.escalations <> (select count(*)
                    from fct_yearly_events e where e.simulation_year = s.simulation_year
                    and e.event_type = 'deferral_escalation') or s.match_responses <> (select count(*)
                    from fct_yearly_events e where e.simulation_year = s.simulation_year
                    and e.event_type = 'deferral_match_response')""")


def test_9_one_limits_row_per_simulated_year(con):
    assert rows(con, "select limit_year, count(*) from int_irs_limits_by_year where limit_year between 2025 and 2029 "
                     "group by 1 order by 1") == [(y, 1) for y in YEARS]
    none_of(con, """select * from fct_dc_plan_summary s join int_irs_limits_by_year l on l.limit_year = s.simulation_year
                    where s.elective_deferral_402g <> l.elective_deferral_402g or s.limits_status <> l.status""")


def test_10_summary_is_the_exact_sum_of_the_rows(con):
    summary = {r[0]: r[1:] for r in rows(con, """select simulation_year, headcount, total_employee_deferrals,
        total_pre_tax, total_roth, total_catch_up, total_refunded, total_match, total_core, total_employer_gross,
        forfeitures_generated, payroll, contributors, at_402g_limit_count, reduced_415_count,
        employer_cost_pct_payroll, participation_rate, at_402g_limit_share from fct_dc_plan_summary""")}
    sums = {r[0]: r[1:] for r in rows(con, """select simulation_year, count(*), sum(employee_deferral),
        sum(pre_tax_deferral), sum(roth_deferral), sum(catch_up_deferral), sum(refunded_deferral), sum(employer_match),
        sum(employer_core), sum(employer_total), sum(forfeited_amount), sum(plan_comp),
        count(*) filter (where employee_deferral > 0), count(*) filter (where limit_402g_reached),
        count(*) filter (where reduced_415) from fct_dc_contributions group by 1""")}
    assert sorted(summary) == YEARS
    for year in YEARS:
        assert summary[year][:14] == sums[year], year
        gross, payroll = summary[year][8], summary[year][10]
        assert summary[year][14] == cents_ratio(gross, payroll)
        assert 0 <= summary[year][15] <= 1 and 0 <= summary[year][16] <= 1


def cents_ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    return (numerator / denominator).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def test_12_forfeiture_pool(con):
    pools = rows(con, """select simulation_year, forfeiture_pool_boy, forfeitures_applied, forfeitures_generated,
                                forfeiture_pool_eoy, net_employer_cost, total_employer_gross
                         from fct_dc_plan_summary order by 1""")
    assert pools[0][1] == Decimal("5000.00"), "the configured opening pool"
    assert any(p[3] > 0 for p in pools), "graded vesting makes leavers forfeit"
    previous_eoy = None
    for year, boy, applied, generated, eoy, net, gross in pools:
        if previous_eoy is not None:
            assert boy == previous_eoy, year
        assert applied == min(boy, gross) and applied <= boy
        assert eoy == boy - applied + generated and net == gross - applied and net >= 0
        previous_eoy = eoy


def test_the_shared_invariant_set(con):
    """The set every run of the suite must keep (helpers/invariants.py), here with core, Roth and graded vesting."""
    assert invariant_problems(con, YEARS, SPEC.config()) == {}
