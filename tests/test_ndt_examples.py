"""docs/ndt.md worked examples, number for number, through the real money and NDT models (dbt, DuckDB).

Each case injects the year's snapshot, events and census (tests/helpers/money_rows.py) for plan year 2026, the first
simulated year (census 2025-12-31), runs the money models and the NDT marts, and compares with the figures the
docs derive by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from helpers.money_rows import MoneyYear, Person, fetch

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


@pytest.mark.parametrize("option, expected", [
    # Top-paid group: 6 counted, a group of 1 (H1); H2 becomes an NHCE; A 4.00 %, limit 6.00 %, H 6.00 %.
    ({"plan.ndt.top_paid_group_election": True}, ("pass", D("0.0600"), D("0.0400"), D("0.0600"), D("0.0000"))),
    # N5 tested: A 3.40 %, limit 5.40 % < 5.50 %.
    ({"plan.ndt.otherwise_excludable": "none"}, ("fail", D("0.0550"), D("0.0340"), D("0.0540"), D("-0.0010"))),
    # Prior-year method in the first year without a configured value: A deemed 3 %, limit 5.00 %.
    ({"plan.ndt.testing_method": "prior_year"}, ("fail", D("0.0550"), D("0.0300"), D("0.0500"), D("-0.0050"))),
])
def test_example_1_variants(money, option, expected):
    con = money.run("ex1v" + str(abs(hash(str(option))) % 1000), example_1(), {**NDT_ON, **option}, ndt=True)
    adp = summary(con, "adp")
    assert (adp["status"], adp["hce_avg"], adp["nhce_avg"], adp["limit_pct"], adp["margin"]) == expected
    people = employee(con)
    if "plan.ndt.top_paid_group_election" in option:
        assert {k for k, r in people.items() if r["is_hce"]} == {"H1"} and people["H1"]["in_top_paid_group"]
    if option.get("plan.ndt.otherwise_excludable") == "none":
        # Leveling at 5.80 %: H1 gives 412.00, distributed (no catch-up at 48), no match lost; QNEC 10 bp.
        assert adp["highest_permitted"] == D("0.058000") and adp["total_excess"] == D("412.00")
        assert (people["H1"]["adp_excess"], people["H1"]["adp_distributed"], people["H1"]["match_forfeited_adp"]) == \
            (D("412.00"), D("412.00"), 0)
        assert (adp["qnec_rate"], adp["qnec_cost"]) == (D("0.0010"), D("412.59"))
    if "plan.ndt.testing_method" in option:
        assert adp["nhce_basis"] == "deemed_3pct" and adp["qnec_rate"] is None


def test_example_1_disaggregated_groups(money):
    con = money.run("ex1d", example_1(), {**NDT_ON, "plan.ndt.otherwise_excludable": "disaggregate"}, ndt=True)
    assert summary(con, "adp")["status"] == "pass"
    excludable = summary(con, "adp", "excludable")
    assert (excludable["status"], excludable["status_reason"], excludable["nhce_count"]) == ("pass", "no_eligible_hce", 1)


EXAMPLE_2_PLAN = {**NDT_ON, "plan.match.tiers": [{"deferral_max": 0.06, "rate": 1.0}],
                  "plan.match.vesting.schedule": "graded_6", "plan.deferrals.roth.enabled": True}


def example_2() -> list[Person]:
    def person(pid, age, hired, w, c, rate):
        return Person(pid, born(age), hired, w, rate, enrollment=hired, events=[raise_to(c)])

    return [
        person("HA", 45, date(2023, 2, 1), 380000.0, 400000.0, 0.07),
        person("HB", 52, date(2022, 3, 1), 175000.0, 180000.0, 0.10),
        person("HC", 40, date(2024, 5, 1), 195000.0, 200000.0, 0.04),
        person("N1", 38, date(2016, 4, 1), 78000.0, 80000.0, 0.05),
        person("N2", 33, date(2019, 9, 3), 58000.0, 60000.0, 0.03),
        person("N3", 27, date(2020, 1, 6), 48500.0, 50000.0, 0.02),
        person("N4", 25, date(2022, 1, 10), 39000.0, 40000.0, 0.0),
    ]


def test_examples_2_and_3_adp_and_acp_corrections(money):
    con = money.run("ex2", example_2(), EXAMPLE_2_PLAN, ndt=True)
    people, adp, acp = employee(con), summary(con, "adp"), summary(con, "acp")
    assert people["HA"]["adr"] == D("0.0681")
    assert (adp["status"], adp["hce_avg"], adp["nhce_avg"], adp["limit_pct"], adp["margin"]) == \
        ("fail", D("0.0694"), D("0.0250"), D("0.0450"), D("-0.0244"))
    assert (adp["highest_permitted"], adp["total_excess"], adp["total_recharacterized"], adp["total_distributed"]) == \
        (D("0.047500"), D("16850.00"), D("5175.00"), D("11675.00"))
    ha, hb, hc = people["HA"], people["HB"], people["HC"]
    assert (ha["adp_excess"], hb["adp_excess"], hc["adp_excess"]) == (D("11675.00"), D("5175.00"), 0)
    assert (hb["adp_recharacterized"], hb["adp_distributed"], ha["adp_distributed"]) == (D("5175.00"), 0, D("11675.00"))
    assert (ha["match_forfeited_adp"], ha["match_after_adp"], hb["match_forfeited_adp"]) == (D("8775.00"), D("12825.00"), 0)
    assert (adp["qnec_rate"], adp["qnec_cost"]) == (D("0.0244"), D("5612.00"))
    # Example 3: the ACP on the match kept.
    assert (ha["acr"], hb["acr"], hc["acr"]) == (D("0.0356"), D("0.0600"), D("0.0400"))
    assert (acp["status"], acp["hce_avg"], acp["limit_pct"], acp["margin"], acp["highest_permitted"]) == \
        ("fail", D("0.0452"), D("0.0450"), D("-0.0002"), D("0.059400"))
    assert (ha["acp_excess"], ha["acp_distributed"], ha["acp_forfeited"], hb["acp_excess"]) == \
        (D("108.00"), D("43.20"), D("64.80"), 0)
    totals = fetch(con, "select sum(corrective_distribution) as dist, sum(adp_recharacterized) as rc, "
                        "sum(match_forfeited) as lost from fct_ndt_employee")[0]
    assert (totals["dist"], totals["rc"], totals["lost"]) == (D("11718.20"), D("5175.00"), D("8839.80"))


def test_example_2_without_roth_nothing_is_recharacterized(money):
    con = money.run("ex2r", example_2(), {**EXAMPLE_2_PLAN, "plan.deferrals.roth.enabled": False}, ndt=True)
    people, adp = employee(con), summary(con, "adp")
    assert (adp["total_recharacterized"], adp["total_distributed"]) == (0, D("16850.00"))
    assert (people["HB"]["adp_distributed"], people["HB"]["match_forfeited_adp"]) == (D("5175.00"), 0)


def test_marts_columns_are_described_in_order_with_their_types(money):
    import yaml

    from planwise_core.engine.project import DBT_PROJECT_DIR

    marts = {m["name"]: m for m in yaml.safe_load((DBT_PROJECT_DIR / "models/marts/_marts.yml").read_text())["models"]}
    con = money.run("cols", example_1(), NDT_ON, ndt=True)
    for table in ("fct_ndt_employee", "fct_ndt_summary"):
        described = [c["name"] for c in marts[table]["columns"] if c.get("description", "").strip()]
        assert [r[0] for r in con.execute(f"describe {table}").fetchall()] == described
    types = {r[0]: r[1] for r in con.execute("describe fct_ndt_summary").fetchall()}
    assert (types["hce_avg"], types["highest_permitted"], types["total_excess"], types["hce_count"]) == \
        ("DECIMAL(7,4)", "DECIMAL(9,6)", "DECIMAL(18,2)", "INTEGER")
    types = {r[0]: r[1] for r in con.execute("describe fct_ndt_employee").fetchall()}
    assert (types["adr"], types["ownership_pct"], types["lookback_comp"], types["is_key"]) == \
        ("DECIMAL(7,4)", "DECIMAL(9,6)", "DECIMAL(18,2)", "BOOLEAN")


def example_4() -> list[Person]:
    def person(pid, birth, hired, salary, rate, dbal, mbal, own=0.0, officer=False, **kw):
        return Person(pid, birth, hired, salary, rate, enrollment=hired, ownership=own, officer=officer,
                      deferral_balance=dbal, match_balance=mbal, **kw)

    return [
        person("O", date(1971, 4, 1), date(2005, 1, 3), 250000.0, 0.13, 300000.0, 60000.0, own=0.80, officer=True),
        person("K2", date(1975, 6, 15), date(2012, 3, 1), 240000.0, 0.05, 80000.0, 20000.0, officer=True),
        person("F1", date(1980, 2, 10), date(2015, 5, 1), 120000.0, 0.05, 40000.0, 0.0, own=0.02),
        person("E1", date(1990, 1, 20), date(2018, 1, 8), 60000.0, 0.0, 20000.0, 10000.0),
        person("E2", date(1995, 3, 3), date(2020, 6, 1), 50000.0, 0.02, 15000.0, 5000.0),
        person("E3", date(1998, 8, 8), date(2021, 9, 1), 40000.0, 0.08, 10000.0, 0.0),
        person("E5", date(1992, 11, 11), date(2022, 4, 4), 45000.0, 0.0, 5000.0, 0.0, termination=date(YEAR, 5, 31),
               events=[("termination", "experienced_termination", date(YEAR, 5, 31), 45000.0, None)]),
        Person("E4", date(1999, 5, 5), date(YEAR, 7, 1), 48000.0, in_census=False, eligibility=date(YEAR, 7, 31),
               events=[("hire", "new_hire", date(YEAR, 7, 1), 48000.0, None)]),
    ]


EXAMPLE_4_PLAN = {**NDT_ON, "plan.deferrals.roth.enabled": True}


def test_example_4_a_top_heavy_year(money):
    con = money.run("ex4", example_4(), EXAMPLE_4_PLAN, ndt=True)
    people, th = employee(con), summary(con, "top_heavy")
    assert {k: r["key_reason"] for k, r in people.items() if r["is_key"]} == {"O": "owner_5pct", "K2": "officer"}
    assert {k for k, r in people.items() if r["is_hce"]} == {"O", "K2"} and not people["F1"]["is_key"]
    assert (th["key_balance"], th["total_balance"], th["ratio"], th["is_top_heavy"]) == \
        (D("460000.00"), D("565000.00"), D("0.814159"), True)
    assert (th["minimum_rate"], th["minimum_cost"], th["minimum_recipients"], th["status"], th["status_reason"]) == \
        (D("0.030000"), D("3025.92"), 5, "fail", "minimum_owed")
    shortfall = {k: r["th_shortfall"] for k, r in people.items() if r["th_shortfall"] > 0}
    assert shortfall == {"E1": D("1800.00"), "E2": D("500.00"), "E4": D("725.92")}
    assert people["F1"]["th_required"] == D("3600.00") and people["E5"]["th_required"] == 0
    assert people["E5"]["th_distribution"] == D("5000.00") and people["E5"]["deferral_balance_eoy"] == 0
    assert th["total_correction"] == D("3025.92")


def test_example_4_safe_harbor_match_is_exempt_until_a_core_is_added(money):
    sh = {**EXAMPLE_4_PLAN, "plan.match.safe_harbor": True}
    con = money.run("ex4sh", example_4(), sh, ndt=True)
    statuses = {(r["test"], r["test_group"]): (r["status"], r["status_reason"])
                for r in fetch(con, "select * from fct_ndt_summary")}
    assert statuses[("adp", "main")] == statuses[("acp", "main")] == ("exempt", "safe_harbor_match")
    assert statuses[("top_heavy", "main")] == ("exempt", "safe_harbor_match")
    assert fetch(con, "select sum(th_shortfall) as s from fct_ndt_employee")[0]["s"] == 0
    core = {**sh, "plan.core.enabled": True}
    con = money.run("ex4core", example_4(), core, ndt=True)
    assert summary(con, "top_heavy")["status"] != "exempt" and summary(con, "top_heavy")["is_top_heavy"]
    assert summary(con, "adp")["status"] == "exempt"


def test_the_regulations_own_example(money):
    """§1.401(k)-2(b)(2)(viii) Example 1 (docs/ndt.md N8-N9): HCE A 12,000 on 200,000 and HCE B 8,960 on 128,000
    against an NHCE ADP of 3 %: limit 5 %, leveled at 5 %, total excess 4,560.00, apportioned A 3,800.00, B 760.00."""
    people = [
        Person("A", born(45), date(2010, 1, 4), 200000.0, 0.06, enrollment=date(2010, 1, 4)),
        # B earned 170,000 in 2025 (an HCE for 2026) and 128,000 in 2026.
        Person("B", born(40), date(2012, 1, 3), 170000.0, 0.07, enrollment=date(2012, 1, 3),
               events=[raise_to(128000.0)]),
        Person("N", born(35), date(2015, 1, 5), 50000.0, 0.03, enrollment=date(2015, 1, 5)),
    ]
    con = money.run("reg", people, NDT_ON, ndt=True)
    adp, found = summary(con, "adp"), employee(con)
    assert (adp["hce_avg"], adp["nhce_avg"], adp["limit_pct"], adp["total_excess"]) == \
        (D("0.0650"), D("0.0300"), D("0.0500"), D("4560.00"))
    assert (found["A"]["adp_excess"], found["B"]["adp_excess"]) == (D("3800.00"), D("760.00"))
