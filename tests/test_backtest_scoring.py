"""Backtest scoring (docs/fit.md, "Backtest"): Example 3 number for number (prediction bounds, CRPS, skill,
status), the 80 % interval's coverage of an outcome drawn like the replicates, the replicate draws' spread, and the
verdict rules."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import pytest

from planwise_core.fit.backtest.draws import normal_draw, replicate_parameters
from planwise_core.fit.backtest.metrics import with_all
from planwise_core.fit.backtest.scorecard import score_all
from planwise_core.fit.backtest.scoring import (
    chance_fails, crps, prediction_bound, score, skill, summarize,
)

FITTED_TERM = [109, 115, 120, 123, 126, 128, 131, 135, 139, 145]
BUILTIN_TERM = [120, 127, 131, 134, 137, 139, 142, 145, 149, 156]
FITTED_PROMO = [46, 51, 54, 56, 58, 60, 62, 64, 67, 72]
BUILTIN_PROMO = [73, 79, 82, 85, 87, 89, 91, 94, 97, 103]


def test_example_3_terminations():
    fitted, builtin = score(FITTED_TERM, 133, 0.05), score(BUILTIN_TERM, 133, 0.05)
    # Positions p·(R + 1) = 1.1, 5.5, 9.9 of the sorted 10:
    # 109 + 0.1·(115 - 109), (126 + 128)/2, 139 + 0.9·(145 - 139).
    assert (fitted["p10"], fitted["p50"], fitted["p90"]) == pytest.approx((109.6, 127.0, 144.4), abs=1e-9)
    assert (builtin["p10"], builtin["p50"], builtin["p90"]) == pytest.approx((120.7, 138.0, 155.3), abs=1e-9)
    assert fitted["crps"] == pytest.approx(9.9 - 1186 / 200, abs=1e-12) and round(fitted["crps"], 2) == 3.97
    assert round(builtin["crps"], 2) == 3.46
    assert round(skill(fitted["crps"], builtin["crps"]), 3) == -0.147
    assert (fitted["error"], round(fitted["pct_error"] * 100, 2)) == (-6.0, -4.51)
    assert round(fitted["rel_crps"], 4) == 0.0298
    assert fitted["status"] == builtin["status"] == "PASS"


def test_example_3_promotions():
    fitted, builtin = score(FITTED_PROMO, 61, 0.05), score(BUILTIN_PROMO, 61, 0.05)
    assert round(fitted["crps"], 2) == 2.04 and round(builtin["crps"], 2) == 22.24
    assert round(skill(fitted["crps"], builtin["crps"]), 3) == 0.908
    assert (fitted["p10"], fitted["p90"]) == pytest.approx((46.5, 71.5), abs=1e-9)
    assert (builtin["p10"], builtin["p50"], builtin["p90"]) == pytest.approx((73.6, 88.0, 102.4), abs=1e-9)
    # 61 is outside [73.6, 102.4] and 27 > 2 x 5 % of 61, but |61 - 88| = 27 <= 102.4 - 73.6 = 28.8: WARN.
    assert not builtin["inside80"] and builtin["status"] == "WARN" and fitted["status"] == "PASS"
    assert round(builtin["rel_crps"], 4) == 0.3646
    assert score(BUILTIN_PROMO, 59, 0.05)["status"] == "FAIL"  # |59 - 88| = 29 > 28.8 and 29 > 5.9


def test_prediction_bounds_at_the_ends_and_for_two_replicates():
    assert prediction_bound([1.0, 2.0], 0.1) == 1.0 and prediction_bound([1.0, 2.0], 0.9) == 2.0  # 0.3, 2.7 clamped
    assert prediction_bound([1.0, 2.0], 0.5) == 1.5
    assert prediction_bound([4.0], 0.1) == prediction_bound([4.0], 0.9) == 4.0


@pytest.mark.parametrize("draw", ["uniform", "normal"])
def test_the_80_interval_covers_an_outcome_drawn_like_the_replicates_80_percent(draw):
    # A perfect forecast: the actual is one more draw of the replicates' distribution. For a uniform, E[x_(j)] =
    # j/(R + 1), so bounds at positions 1.1 and 9.9 of R = 10 cover 0.8 exactly on average, and type-7 positions
    # (1.9 and 9.1) cover (9.1 - 1.9)/11 = 0.6545.
    rng = random.Random(2026)
    sample = rng.random if draw == "uniform" else (lambda: rng.gauss(0.0, 1.0))
    trials, inside, inside7 = 20000, 0, 0
    for _ in range(trials):
        xs, a = sorted(sample() for _ in range(10)), sample()
        inside += prediction_bound(xs, 0.1) <= a <= prediction_bound(xs, 0.9)
        inside7 += xs[0] + 0.9 * (xs[1] - xs[0]) <= a <= xs[8] + 0.1 * (xs[9] - xs[8])
    assert abs(inside / trials - 0.8) < 0.012  # 4 binomial standard deviations of 20,000 trials
    assert abs(inside7 / trials - 7.2 / 11) < 0.014


def test_crps_by_definition():
    assert crps([5.0], 5.0) == 0.0
    assert crps([1.0, 3.0], 2.0) == pytest.approx(1.0 - 4 / 8)


def test_unobservable_metrics_are_never_scored():
    actuals = {2024: {"flows.promotions": None, "flows.hires_active": 10}}
    simulated = {"fitted-r001": {2024: {"flows.promotions": 3, "flows.hires_active": 9}},
                 "fitted-r002": {2024: {"flows.promotions": 4, "flows.hires_active": 11}}}
    rows, missing = score_all(actuals, simulated, {}, set())
    assert [r["metric"] for r in rows] == ["flows.hires_active"]
    assert missing == [{"metric": "flows.promotions", "period": 2024, "reason": "not in the snapshots"}]


def test_verdict_rules():
    def row(metric, status, inside=True):
        return {"metric": metric, "arm": "fitted", "family": metric.split(".")[0], "conditioned": False,
                "status": status, "inside80": inside, "pct_error": 0.01, "rel_crps": 0.01}
    assert summarize([row("flows.promotions", "PASS")] * 4)["verdict"] == "WARN"  # coverage 1.0 > 0.95
    assert summarize([row("flows.promotions", "FAIL", False)])["verdict"] == "FAIL"
    mixed = [row("flows.promotions", "PASS")] * 4 + [row("pay.average_salary", "PASS", False)]
    assert summarize(mixed)["verdict"] == "PASS"
    # One metric in five outside its 80 % interval is what a calibrated forecast shows: no WARN for it.
    chance = [row("flows.promotions", "PASS")] * 8 + [row("pay.average_salary", "WARN", False)] * 2
    assert summarize(chance)["verdict"] == "PASS"
    # One non-headline FAIL in 10 is chance (P(Binomial(10, 0.01) >= 1) = 0.096 >= 0.05); two are not (0.0043).
    one = [row("flows.promotions", "PASS")] * 8 + [row("pay.average_salary", "FAIL", False)]
    assert summarize(one + [row("pay.payroll", "WARN", False)])["verdict"] == "PASS"
    assert summarize(one + [row("headcount.tenure_band.<2", "FAIL", False)])["verdict"] == "WARN"
    low = [row("flows.promotions", "PASS")] * 6 + [row("pay.average_salary", "WARN", False)] * 4
    assert summarize(low)["verdict"] == "WARN"  # coverage80 0.60


def test_chance_fails_by_hand():
    # P(X >= 1) = 1 - 0.99^n: 0.049 at n = 5 (< 0.05: none allowed), 0.174 at n = 19; P(X >= 2) at 19 = 0.0157.
    assert (chance_fails(5), chance_fails(6), chance_fails(19)) == (0, 1, 1)
    # n = 100: P(X >= 3) = 0.0794, P(X >= 4) = 0.0184.
    assert chance_fails(100) == 3


def test_example_3_replicate_spread():
    ctx = SimpleNamespace(
        quota={"t_hat": 0.1, "n": 2200, "z": math.sqrt(220 / (1082.2173816381642 * 0.9)), "years": [
            {"leavers": 110, "start_actives": 1100}, {"leavers": 110, "start_actives": 1100}]},
        new_hire={}, promotion={}, merit_published={}, base_merit={}, merit_se={}, promotion_base_rate=0.1,
        base_promotion_rate=0.1, published=lambda key: 0.110495, base_rate=lambda which: 0.12)
    eps, eta = normal_draw(1, 1, "t", None), normal_draw(1, 1, "t", 2024)
    params = replicate_parameters(ctx, 1, 1, [2024], {2024: 1150}, {2024: 0.0}, True, "fitted")
    se_est, se_proc = 0.475262 * 0.006396, math.sqrt(0.110495 * 0.889505 / 1150)
    assert math.sqrt(se_est ** 2 + se_proc ** 2) == pytest.approx(0.009732, abs=2e-6)
    assert params["t"][2024] == pytest.approx(0.110495 + se_est * eps + se_proc * eta, abs=2e-6)
    assert round(1150 * (0.110495 + 0.009732)) == 138
    builtin = replicate_parameters(ctx, 1, 1, [2024], {2024: 1150}, {2024: 0.0}, True, "built-in")
    assert builtin["t"][2024] == pytest.approx(0.12 + math.sqrt(0.12 * 0.88 / 1150) * eta, abs=1e-12)
    still = replicate_parameters(ctx, 1, 1, [2024], {2024: 1150}, {2024: 0.0}, False, "fitted")
    assert still["t"][2024] == 0.110495


def test_the_pooled_all_period():
    def year(promotions, heads, end, start, hires, avg, part):
        return {"flows.promotions": promotions, "headcount.total": heads, "pay.continuing_increase": end / start - 1,
                "_stayer_pay_end": end, "_stayer_pay_start": start, "flows.hires_active": hires,
                "pay.new_hire_average_salary": avg, "plan.participation": part, "flows.new_hire_terminations": None}
    periods = with_all({2025: year(12, 110, 220.0, 200.0, 6, 60.0, 0.7),
                        2024: year(10, 100, 105.0, 100.0, 4, 50.0, 0.6)})
    pooled = periods["all"]
    assert pooled["flows.promotions"] == 22 and pooled["flows.hires_active"] == 10  # flows summed
    assert (pooled["headcount.total"], pooled["plan.participation"]) == (110, 0.7)  # stocks at the last year
    assert pooled["pay.continuing_increase"] == pytest.approx(325 / 300 - 1)  # not the mean of 0.05 and 0.10
    assert pooled["pay.new_hire_average_salary"] == pytest.approx((4 * 50 + 6 * 60) / 10)
    assert pooled["flows.new_hire_terminations"] is None  # not observable in a year: not observable pooled
    assert not [m for p in periods.values() for m in p if m.startswith("_")]
    assert list(with_all({2024: year(1, 1, 1.0, 1.0, 1, 1.0, 1.0)})) == [2024]  # one held-out year: no `all`
    actuals = {"all": {"flows.promotions": 22}, 2025: {"flows.promotions": 12}, 2024: {"flows.promotions": 10}}
    rows, _ = score_all(actuals,
                        {"fitted-r001": {p: {"flows.promotions": 1} for p in (2024, 2025, "all")}}, {}, set())
    assert [r["period"] for r in rows] == [2024, 2025, "all"]
