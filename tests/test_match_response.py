"""The match response (docs/plan_money.md, R2a), checked on the shared 3,000-person run of test_invariants.

Who responds and to what rate is recomputed here from the sha256 draws and the default formula (m* = 5 %), never read
from the code under test; the responders' share is also compared with the configured probability by a chi-square.
The rule's other invariants: dbt unit tests (int_match_response_events, the match off) and tests/test_golden.py
(enabled: false gives the tables of a run without the rule).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helpers.sql import rows
from helpers.common import draw
from test_invariants import SPEC

from planwise_core.config import config_from_dict
from planwise_core.errors import ConfigError
from test_config import with_change

pytestmark = pytest.mark.slow

SEED, Y0, TARGET_BP = 42, 2025, 500  # default tiers: 100 % of 3 % + 50 % of the next 2 % -> m* = 5 %
SETTINGS = {"upward": (Decimal("0.40"), Decimal("0.60"), 5000), "downward": (Decimal("0.15"), Decimal("0.70"), 5000)}


def expected_response(employee_id: str, rate_bp: int) -> tuple[str, int] | None:
    """(direction, new rate in bp) of one census participant, or None, from the rule as documented."""
    direction = "upward" if rate_bp < TARGET_BP else "downward" if rate_bp > TARGET_BP else None
    if direction is None:
        return None
    probability, maximize, factor = SETTINGS[direction]
    if Decimal(draw(SEED, employee_id, Y0, "match_response")) >= probability:
        return None
    if Decimal(draw(SEED, employee_id, Y0, "match_response_kind")) < maximize:
        return direction, TARGET_BP
    step = (2 * abs(TARGET_BP - rate_bp) * factor + 10000) // 20000  # half up
    new = rate_bp + step if direction == "upward" else rate_bp - step
    return (direction, new) if new != rate_bp else None


@pytest.fixture(scope="module")
def con(sims):
    run = sims.get(SPEC)
    assert run.result["success"], run.result
    con = run.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def participants(con):
    """Census participants employed on Jan 1 of the first year, with their elected rate in bp."""
    return {emp: int(rate * 10000) for emp, rate in rows(con, """
        select employee_id, deferral_rate from int_baseline_workforce where is_enrolled and deferral_rate > 0""")}


def test_responders_and_their_new_rates_follow_the_documented_rule(con, participants):
    events = {emp: (cat, int(prev * 10000), int(rate * 10000), day, year) for emp, cat, prev, rate, day, year in rows(con, """
        select employee_id, event_category, previous_deferral_rate, deferral_rate, effective_date, simulation_year
        from fct_yearly_events where event_type = 'deferral_match_response'""")}
    expected = {emp: response for emp, rate in participants.items()
                if (response := expected_response(emp, rate)) is not None}
    assert len(expected) > 100
    assert {emp: (e[0], e[2]) for emp, e in events.items()} == expected
    for emp, (_category, previous, new, day, year) in events.items():
        assert (year, day) == (Y0, date(Y0, 1, 1)) and previous == participants[emp]
        assert min(previous, TARGET_BP) <= new <= max(previous, TARGET_BP)  # between r and m*, inclusive


def test_the_new_rate_is_in_force_all_year(con):
    """Nobody else changes these people's rates in 2025 (no escalation by default): the snapshot and the money layer's
    year-end rate show the new rate, its opening rate the census one."""
    wrong = rows(con, """
        select e.employee_id from fct_yearly_events e
        join fct_workforce_snapshot s using (employee_id, simulation_year)
        join fct_dc_contributions m using (employee_id, simulation_year)
        where e.event_type = 'deferral_match_response'
          and (s.deferral_rate <> e.deferral_rate or m.deferral_rate_eoy <> e.deferral_rate
               or m.deferral_rate_boy <> e.previous_deferral_rate)""")
    assert wrong == []


def test_the_share_of_responders_matches_the_probability(con, participants):
    """Pearson's chi-square (1 degree of freedom) of responders among those who could respond, per direction; 10.83 is
    the 0.1 % critical value. Partial steps always move at least 1 bp with factor 0.5, so every responder has an event."""
    for direction, lower in (("upward", lambda r: r < TARGET_BP), ("downward", lambda r: r > TARGET_BP)):
        eligible = [emp for emp, rate in participants.items() if lower(rate)]
        responded = rows(con, f"""select count(*) from fct_yearly_events where event_type = 'deferral_match_response'
                                  and event_category = '{direction}'""")[0][0]
        p = float(SETTINGS[direction][0])
        n = len(eligible)
        statistic = (responded - n * p) ** 2 / (n * p) + ((n - responded) - n * (1 - p)) ** 2 / (n * (1 - p))
        assert n > 150 and statistic < 10.83, (direction, n, responded, statistic)


@pytest.mark.parametrize("path, value, message", [
    ("plan.match_response.upward.probability", 1.5, "plan.match_response.upward.probability"),
    ("plan.match_response.downward.sideways", 1, "plan.match_response.downward.sideways"),
    ("plan.match_response.new_enrollee_share", -0.1, "plan.match_response.new_enrollee_share"),
])
def test_bad_match_response_keys_are_reported_with_their_path(path, value, message):
    with pytest.raises(ConfigError) as raised:
        config_from_dict(with_change(path, value))
    assert any(p.startswith(message) for p in raised.value.problems), raised.value.problems


def test_summary_and_report_count_the_responses_and_escalations(con, tmp_path):
    from planwise_core.outputs.summary import format_summary, year_summary
    from planwise_core.report.run_data import collect
    from planwise_core.report.workforce_figures import events_figure

    summary = year_summary(con, 2025, 2029)
    counts = dict(rows(con, """select simulation_year, count(*) from fct_yearly_events
                               where event_type = 'deferral_match_response' group by 1"""))
    assert [r["match_responses"] for r in summary] == [counts.get(y, 0) for y in range(2025, 2030)]
    assert counts[2025] > 100 and set(counts) == {2025}
    assert all(r["escalations"] == 0 for r in summary)  # escalation is off in this run
    line = next(x for x in format_summary(summary).splitlines() if x.startswith("Match responses"))
    assert line.split()[-5] == str(counts[2025])
    figure = events_figure(collect(con))
    assert "deferral_match_response" in figure.table.headers

