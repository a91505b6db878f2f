"""docs/ndt.md worked examples, number for number, through the real money and NDT models (dbt, DuckDB).

Each case injects the year's snapshot, events and census (tests/money_rows.py) for plan year 2026, the first
simulated year (census 2025-12-31), runs the money models and the NDT marts, and compares with the figures the
docs derive by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from money_rows import MoneyYear, Person, fetch

pytestmark = pytest.mark.slow
YEAR = 2026
NDT_ON = {"plan.ndt.enabled": True}


def born(age: int) -> date:
    return date(YEAR - age, 1, 15)


def raise_to(amount, day=date(YEAR, 1, 1)):
    return ("raise", "merit", day, amount, None)


@pytest.fixture(scope="module")
def money(tmp_path_factory):
    return MoneyYear(tmp_path_factory.mktemp("ndt"), YEAR, date(YEAR - 1, 12, 31))


def example_1() -> list[Person]:
    def person(pid, age, hired, w, rate, c=None, events=(), **kw):
        events = list(events) or ([raise_to(c)] if c else [])
        return Person(pid, born(age), hired, w, rate, enrollment=hired, events=events, **kw)

    return [
        person("H1", 48, date(2010, 3, 1), 200000.0, 0.06, 206000.0),
        person("H2", 41, date(2015, 6, 15), 165000.0, 0.05, 170000.0),
        person("N1", 35, date(2019, 2, 1), 90000.0, 0.05, events=[raise_to(94000.0, date(YEAR, 7, 1))]),
        person("N2", 29, date(2021, 8, 16), 60000.0, 0.04, 61800.0),
        person("N3", 24, date(2023, 1, 9), 43700.0, 0.0, 45000.0),
        person("N4", 52, date(2008, 11, 3), 159000.0, 0.06, 163770.0),
        person("N5", 30, date(2025, 9, 1), 50000.0, 0.02, eligibility=date(2025, 10, 1)),
    ]


def summary(con, test, group="main") -> dict:
    return fetch(con, "select * from fct_ndt_summary where test = ? and test_group = ?", [test, group])[0]


def employee(con) -> dict:
    return {r["employee_id"]: r for r in fetch(con, "select * from fct_ndt_employee")}


def test_example_1_both_tests_pass_with_the_default_options(money):
    con = money.run("ex1", example_1(), NDT_ON, ndt=True)
    people = employee(con)
    assert {k for k, r in people.items() if r["is_hce"]} == {"H1", "H2"}
    assert people["N5"]["lookback_comp"] == D("16712.33") and people["N5"]["is_otherwise_excludable"]
    assert people["N5"]["statutory_entry_date"] == date(2027, 1, 1) and people["N5"]["adp_test_group"] is None
    assert people["N1"]["adp_testing_comp"] == D("92016.44") and people["N1"]["adr"] == D("0.0500")
    adp, acp = summary(con, "adp"), summary(con, "acp")
    assert (adp["status"], adp["hce_avg"], adp["nhce_avg"], adp["limit_pct"], adp["applied_prong"], adp["margin"]) == \
        ("pass", D("0.0550"), D("0.0375"), D("0.0575"), "alternative", D("0.0025"))
    assert (acp["status"], acp["hce_avg"], acp["nhce_avg"], acp["limit_pct"], acp["margin"]) == \
        ("pass", D("0.0400"), D("0.0288"), D("0.0488"), D("0.0088"))
    assert adp["total_excess"] == 0 and adp["qnec_rate"] is None
