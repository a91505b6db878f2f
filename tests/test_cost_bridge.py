"""The cost bridge (docs/cost_bridge.md): the worked example to the cent, and on real runs (the report's run year over
year, its high-turnover variant against it in ``planwise diff``) terms that add up to the change exactly and agree
with an independent floating-point LMDI computed here from the contribution rows."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from helpers.sql import rows
from helpers.common import html_section
from test_diff import HIGH_TURNOVER
from test_report import SPEC

from planwise_core.outputs.bridge import CostState, between, bridge, cost_states, year_over_year
from planwise_core.outputs.diff import diff_databases, format_diff
from planwise_core.report import write_report

D = Decimal


def lmdi(x0, x1, factors0, factors1) -> list[float]:
    """Independent LMDI-I in floats: L(x1, x0) · ln(f1/f0) per factor."""
    weight = x0 if x0 == x1 else (x1 - x0) / (math.log(x1) - math.log(x0))
    return [weight * math.log(b / a) for a, b in zip(factors0, factors1)]


def test_the_worked_example_of_the_docs():
    before = CostState(100, D("5000000"), D("150000"), 60, D(0), 0, D(0))
    after = CostState(110, D("5775000"), D("180000"), 70, D("20000"), 40, D("1500"))
    result = bridge(before, after)
    assert result["change"] == D("48500")
    assert result["components"]["match"]["terms"] == {"head_count": D("15682.76"), "average_pay": D("8028.15"),
                                                      "participation": D("9681.88"), "generosity": D("-3392.79")}
    assert result["components"]["core"]["terms"]["generosity"] == D("20000")  # a core that starts: plan design
    assert result["terms"] == {"head_count": D("15682.76"), "average_pay": D("8028.15"), "participation": D("9681.88"),
                               "generosity": D("16607.21"), "forfeitures": D("-1500")}
    floats = lmdi(150000, 180000, (100, 50000, 0.6, 0.05), (110, 52500, 70 / 110, 180000 * 110 / (5775000 * 70)))
    assert [round(f, 2) for f in floats] == [15682.76, 8028.15, 9681.88, -3392.79]


def test_the_rounding_remainder_goes_to_the_largest_term():
    # Three equal thirds of a cent-odd change cannot all round to the change: the remainder lands on one term.
    before = CostState(3, D("300"), D("1.00"), 1, D(0), 0, D(0))
    after = CostState(3, D("300"), D("2.01"), 1, D(0), 0, D(0))
    terms = bridge(before, after)["components"]["match"]["terms"]
    assert sum(terms.values()) == D("1.01") and terms["generosity"] == D("1.01")


def independent_states(con) -> dict[int, tuple]:
    return {y: (n, float(p), float(m), mr, float(k), kr, float(f)) for y, n, p, m, mr, k, kr, f in rows(con, """
        select c.simulation_year, count(*), sum(c.plan_comp), sum(c.employer_match),
               count(*) filter (where c.employer_match > 0), sum(c.employer_core),
               count(*) filter (where c.employer_core > 0), any_value(coalesce(s.forfeitures_applied, 0))
        from fct_dc_contributions c join fct_dc_plan_summary s using (simulation_year) group by 1""")}


def check(bridges, first: dict, second: dict, pair):
    for b in bridges:
        s0, s1 = first[pair(b["year"])[0]], second[pair(b["year"])[1]]
        net = lambda s: D(str(s[2])) + D(str(s[4])) - D(str(s[6]))  # noqa: E731
        assert b["change"] == (net(s1) - net(s0)).quantize(D("0.01"))
        assert sum(b["terms"].values()) == b["change"], b  # to the cent, exactly
        for name, (xi, ri) in (("match", (2, 3)), ("core", (4, 5))):
            if s0[xi] and s1[xi]:
                factors = [(s[0], s[1] / s[0], s[ri] / s[0], s[xi] * s[0] / (s[1] * s[ri])) for s in (s0, s1)]
                expected = lmdi(s0[xi], s1[xi], *factors)
                got = [float(v) for v in b["components"][name]["terms"].values()]
                assert all(abs(g - e) <= 0.02 for g, e in zip(got, expected)), (name, got, expected)


@pytest.mark.slow
def test_year_over_year_on_the_report_run_and_in_the_page(sims, tmp_path):
    run = sims.get(SPEC)
    con = run.connect()
    try:
        bridges = year_over_year(cost_states(con))
        states = independent_states(con)
    finally:
        con.close()
    assert [b["year"] for b in bridges] == SPEC.years[1:]
    check(bridges, states, states, lambda y: (y - 1, y))
    page = write_report(run.database, tmp_path / "report.html").read_text()
    # The plan design in one sentence at the top, from the run's configuration (the defaults here).
    assert '<p class="design">Plan design: match 100 % of the first 3 % and 50 % of the next 2 %.</p>' in \
        html_section(page, "overview")
    # Composition drift: average pay of Dec 31 actives against the mean raise given, recomputed here.
    con = run.connect()
    try:
        pay = dict(rows(con, """select simulation_year, avg(current_compensation) from fct_workforce_snapshot
                                where employment_status = 'active' group by 1"""))
        given = dict(rows(con, """select simulation_year, avg(compensation_amount / previous_compensation - 1)
                                  from fct_yearly_events where event_type = 'raise' group by 1"""))
    finally:
        con.close()
    last_year, prior = SPEC.years[-1], SPEC.years[-2]
    growth = D(str(pay[last_year])) / D(str(pay[prior])) - 1
    gap = growth - D(str(given[last_year]))
    drift = html_section(page, "pay").split('id="pay-drift"')[1]
    expected_flag = "above merit + COLA" if gap > D("0.005") else ""
    assert (f"<td>{last_year}</td><td class=\"num\">${D(str(pay[last_year])).quantize(D(1), 'ROUND_HALF_UP'):,}</td>"
            f"<td class=\"num\">{(growth * 100).quantize(D('0.01'), 'ROUND_HALF_UP')}%</td>") in drift
    assert drift.split(f"<td>{last_year}</td>")[1].split("</tr>")[0].endswith(f"<td>{expected_flag}</td>")
    assert ("Composition drift" in html_section(page, "overview")) == (expected_flag != "" or "level mix" in page)
    # Readable assumptions: the match tiers as YAML would write them, never a Python repr.
    assumptions = html_section(page, "assumptions")
    assert "{deferral_max: 0.03, rate: 1}, {deferral_max: 0.05, rate: 0.5}" in assumptions
    assert "{'" not in assumptions and "&#39;" not in assumptions
    plan = html_section(page, "plan")
    assert "the cost bridge" in plan
    last = bridges[-1]
    assert f"${abs(last['change']):,.2f}" in plan and f"${abs(last['terms']['average_pay']):,.2f}" in plan


@pytest.mark.slow
def test_between_two_scenarios_in_diff(sims):
    sims.prefetch([SPEC, HIGH_TURNOVER])
    a, b = sims.get(SPEC), sims.get(HIGH_TURNOVER)
    result = diff_databases(a.database, b.database)
    cons = a.connect(), b.connect()
    try:
        first, second = independent_states(cons[0]), independent_states(cons[1])
        assert result["cost_bridge"] == between(cost_states(cons[0]), cost_states(cons[1]))
    finally:
        for c in cons:
            c.close()
    assert [r["year"] for r in result["cost_bridge"]] == SPEC.years
    check(result["cost_bridge"], first, second, lambda y: (y, y))
    text = format_diff(result)
    assert "Net employer cost, B against A, by driver" in text
    assert f"{SPEC.years[-1]}: " in text.split("by driver")[1]


def test_the_plan_design_sentence():
    from planwise_core.config import PlanwiseConfig
    from planwise_core.report.plan_sentence import plan_sentence

    config = PlanwiseConfig().with_overrides(**{"plan.core.enabled": True, "plan.auto_escalation.enabled": True,
                                                "plan.match.vesting.schedule": "cliff_3"}).to_dict()
    assert plan_sentence(config) == ("match 100 % of the first 3 % and 50 % of the next 2 % with 3-year cliff vesting, "
                                     "core 3 % with 6-year graded vesting, escalation 1 %/yr to 10 %")
    assert plan_sentence({"plan": {"enabled": False}}) == "plan money layer off"


@pytest.mark.slow
def test_the_batch_page_shows_the_bridge_of_each_scenario_against_the_baseline(sims, tmp_path):
    """A batch database pointing at two real runs of one seed (what a batch of two designs writes)."""
    from planwise_core.batch.store import write_batch_database, run_year_rows
    from planwise_core.report.batch_report import write_batch_report

    sims.prefetch([SPEC, HIGH_TURNOVER])
    a, b = sims.get(SPEC), sims.get(HIGH_TURNOVER)
    runs = [{"run_id": f"{name}-42", "scenario": name, "seed": 42, "status": "completed", "seconds": 1.0,
             "completed_years": 3, "database": str(run.database)} for name, run in (("baseline", a), ("turnover", b))]
    years = [{"run_id": r["run_id"], "scenario": r["scenario"], "seed": 42, **y}
             for r in runs for y in run_year_rows(r["database"], SPEC.years[0], SPEC.years[-1])]
    info = {"batch_id": "b", "kind": "scenarios", "source": "s.yaml", "output": str(tmp_path)}
    page = write_batch_report(write_batch_database(tmp_path / "batch.duckdb", info, runs, years),
                              tmp_path / "batch.html").read_text(encoding="utf-8")
    cons = a.connect(), b.connect()
    try:
        expected = between(cost_states(cons[0]), cost_states(cons[1]))
    finally:
        for c in cons:
            c.close()
    part = html_section(page, "differences").split('id="cost-bridge"')[1]
    for b in expected:
        sign = "-" if b["change"] < 0 else "+"
        assert f"<td>turnover {b['year']} (seed 42)</td><td>net cost</td><td class=\"num\">{sign}${abs(b['change']):,.2f}" \
            in part, b
