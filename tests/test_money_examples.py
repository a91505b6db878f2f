"""docs/plan_rules.md 2.7: employees A, B and C of plan year 2026 and their totals, to the cent, with every variant.

Rows are injected (tests/money_rows.py): a census dated 2025-12-31, start_year 2026, the snapshot and event rows
listed in the specification; the real money models run through dbt on them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from helpers.money_rows import MoneyYear, Person, fetch

YEAR = 2026

# dc_plan 2.7 "test plan config": match default tiers, annual true-up, no allocation conditions, graded_6 match
# vesting; core by service 2 / 4 / 10 %, no waiting period, last-day rule and 1,000 hours; Roth offered with share 0
# and the mandatory Roth catch-up; escalation on (its event for C is part of the injected rows).
PLAN = {
    "plan.match.vesting.schedule": "graded_6",
    "plan.core.enabled": True,
    "plan.core.graded_by": "service",
    "plan.core.bands": [{"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": 15, "rate": 0.04},
                        {"min": 15, "max": None, "rate": 0.10}],
    "plan.core.eligibility.waiting_period_days": 0,
    "plan.core.allocation.last_day_rule": True,
    "plan.core.allocation.minimum_hours": 1000,
    "plan.deferrals.roth.enabled": True,
    "plan.deferrals.roth.share": 0.0,
    "plan.deferrals.roth.mandatory_roth_catch_up": True,
    "plan.auto_escalation.enabled": True,
}


def employee_a() -> Person:
    return Person("A", birth=date(1965, 3, 10), hire=date(2010, 6, 1), salary=400_000.00, deferral_rate=0.12,
                  eligibility=date(2010, 7, 1), enrollment=date(2010, 6, 1))


def employee_b() -> Person:
    return Person("B", birth=date(1996, 1, 15), hire=date(2026, 3, 2), salary=78_000.00, in_census=False,
                  eligibility=date(2026, 4, 1), enrollment=date(2026, 5, 16), deferral_rate_eoy=0.06,
                  events=[("hire", "new_hire", date(2026, 3, 2), 78_000.00, None),
                          ("eligibility", "plan_eligibility", date(2026, 4, 1), None, None),
                          ("enrollment", "auto", date(2026, 5, 16), None, 0.06)])


def employee_c() -> Person:
    return Person("C", birth=date(1981, 5, 20), hire=date(2023, 9, 15), salary=90_000.00, deferral_rate=0.05,
                  eligibility=date(2023, 10, 15), enrollment=date(2023, 9, 15), termination=date(2026, 6, 30),
                  deferral_rate_eoy=0.06, match_balance=3_500.00,
                  events=[("deferral_escalation", "auto_escalation", date(2026, 1, 1), None, 0.06),
                          ("raise", "merit_cola", date(2026, 4, 1), 93_600.00, None),
                          ("termination", "experienced_termination", date(2026, 6, 30), 93_600.00, None)])


@pytest.fixture(scope="module")
def money(tmp_path_factory):
    return MoneyYear(tmp_path_factory.mktemp("examples"), YEAR, date(2025, 12, 31))


def run(money, name, people=None, **changes):
    con = money.run(name, people or [employee_a(), employee_b(), employee_c()], {**PLAN, **changes})
    rows = {r["employee_id"]: r for r in fetch(con, "select * from fct_dc_contributions")}
    summary = fetch(con, "select * from fct_dc_plan_summary")
    con.close()
    return rows, summary[0] if summary else None


@pytest.fixture(scope="module")
def base(money):
    return run(money, "base")


def test_employee_a_high_earner_402g_super_catch_up_roth_and_415(base):
    a = base[0]["A"]
    assert (a["plan_comp"], a["comp_limit_401a17"], a["comp_401a17_applied"]) == (D("400000.00"), D("360000.00"), True)
    assert (a["age_dec31"], a["service_years"], a["hours_estimated"]) == (61, 16, D("2080.00"))
    assert a["requested_deferral"] == D("43200.00")
    assert (a["catch_up_limit"], a["elective_limit"], a["limit_402g_reached"]) == (D("11250.00"), D("35750.00"), True)
    assert (a["match_true_up_basis"], a["employer_match"]) == (D("14400.00"), D("14400.00"))
    assert (a["core_rate"], a["employer_core"]) == (D("0.10"), D("36000.00"))
    assert (a["limit_415"], a["reduced_415"]) == (D("72000.00"), True)
    assert (a["employee_deferral"], a["catch_up_deferral"]) == (D("32850.00"), D("11250.00"))
    assert (a["roth_deferral"], a["pre_tax_deferral"], a["refunded_deferral"]) == (D("11250.00"), D("21600.00"),
                                                                                   D("2900.00"))
    assert (a["annual_additions"], a["employer_total"]) == (D("72000.00"), D("50400.00"))
    assert a["is_hce"] is True


def test_employee_b_new_hire_auto_enrolled_mid_year(base):
    b = base[0]["B"]
    assert (b["plan_comp"], b["deferral_comp"], b["match_comp"]) == (D("65178.08"), D("49150.68"), D("58767.12"))
    assert b["employee_deferral"] == D("2949.04")
    assert (b["employer_match"], b["employer_core"], b["core_rate"]) == (D("2350.68"), D("1303.56"), D("0.02"))
    assert (b["hours_estimated"], b["annual_additions"], b["employer_total"]) == (D("1738.08"), D("6603.28"), D("3654.24"))
    assert (b["limit_402g_reached"], b["reduced_415"], b["is_hce"]) == (False, False, None)
    assert (b["deferral_rate_boy"], b["deferral_rate_eoy"]) == (D("0"), D("0.06"))


def test_employee_c_escalated_raised_terminated_graded_vesting(base):
    c = base[0]["C"]
    assert c["plan_comp"] == D("45527.67")
    assert (c["escalated"], c["deferral_rate_boy"], c["deferral_rate_eoy"]) == (True, D("0.05"), D("0.06"))
    assert (c["employee_deferral"], c["employer_match"]) == (D("2731.66"), D("1821.11"))
    assert (c["core_eligible"], c["employer_core"], c["hours_estimated"]) == (True, D("0.00"), D("1031.45"))
    assert (c["vesting_service_years"], c["vested_pct_match"]) == (2, D("0.2"))
    assert (c["match_balance_boy"], c["match_balance_eoy"]) == (D("3500.00"), D("0.00"))
    assert (c["vested_amount"], c["forfeited_amount"]) == (D("1064.22"), D("4256.89"))


def test_plan_year_totals(base):
    s = base[1]
    assert (s["total_employee_deferrals"], s["total_pre_tax"], s["total_roth"]) == (D("38530.70"), D("27280.70"),
                                                                                   D("11250.00"))
    assert (s["total_catch_up"], s["total_refunded"]) == (D("11250.00"), D("2900.00"))
    assert (s["total_match"], s["total_core"], s["total_employer_gross"]) == (D("18571.79"), D("37303.56"),
                                                                              D("55875.35"))
    assert (s["payroll"], s["employer_cost_pct_payroll"]) == (D("510705.75"), D("0.109408"))
    assert (s["eligible_eoy"], s["participants_eoy"], s["participation_rate"]) == (2, 2, D("1"))
    assert (s["avg_deferral_rate"], s["contributors"]) == (D("0.09"), 3)
    assert (s["at_402g_limit_count"], s["at_402g_limit_share"], s["reduced_415_count"]) == (1, D("0.333333"), 1)
    assert s["forfeitures_generated"] == D("4256.89")
    assert (s["forfeitures_applied"], s["forfeitures_prior_unknown"]) == (None, True)
    assert s["net_employer_cost"] == s["total_employer_gross"]
    assert s["forfeiture_pool_eoy"] == D("4256.89")  # applied against 2027 employer contributions
    assert (s["elective_deferral_402g"], s["limits_status"]) == (24500, "published")


def test_a_with_core_9_percent_needs_no_415_correction(money):
    bands = [{"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": 15, "rate": 0.04}, {"min": 15, "max": None, "rate": 0.09}]
    a = run(money, "a_core9", [employee_a()], **{"plan.core.bands": bands})[0]["A"]
    assert (a["employer_core"], a["reduced_415"], a["employee_deferral"]) == (D("32400.00"), False, D("35750.00"))
    assert a["annual_additions"] == D("71300.00")


def test_a_per_pay_period_match_then_415(money):
    a = run(money, "a_ppp", [employee_a()], **{"plan.match.calculation": "per_pay_period"})[0]["A"]
    assert a["employer_match"] == D("11916.67")
    assert (a["refunded_deferral"], a["employee_deferral"]) == (D("416.67"), D("35333.33"))
    assert a["employee_deferral"] - a["catch_up_deferral"] == D("24083.33")
    assert a["annual_additions"] == D("72000.00")


def test_a_without_roth_loses_the_catch_up(money):
    a = run(money, "a_noroth", [employee_a()], **{"plan.deferrals.roth.enabled": False})[0]["A"]
    assert (a["catch_up_limit"], a["elective_limit"]) == (D("0.00"), D("24500.00"))
    assert (a["employee_deferral"], a["pre_tax_deferral"], a["roth_deferral"]) == (D("21600.00"), D("21600.00"),
                                                                                  D("0.00"))
    assert (a["catch_up_deferral"], a["annual_additions"], a["refunded_deferral"]) == (D("0.00"), D("72000.00"),
                                                                                      D("2900.00"))


def test_b_per_pay_period_match(money):
    b = run(money, "b_ppp", [employee_b()], **{"plan.match.calculation": "per_pay_period"})[0]["B"]
    assert b["employer_match"] == D("1966.03")


@pytest.mark.parametrize("changes, vested, forfeited", [
    ({"plan.match.vesting.service_method": "hours"}, D("2128.44"), D("3192.67")),
    ({"plan.match.vesting.schedule": "cliff_3"}, D("0.00"), D("5321.11")),
], ids=["hours_service", "cliff_3"])
def test_c_vesting_variants(money, changes, vested, forfeited):
    c = run(money, f"c_{next(iter(changes.values()))}", [employee_c()], **changes)[0]["C"]
    assert (c["vested_amount"], c["forfeited_amount"]) == (vested, forfeited)
    assert c["vested_amount"] + c["forfeited_amount"] == D("5321.11")
