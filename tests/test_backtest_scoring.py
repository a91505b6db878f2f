"""Backtest scoring (docs/fit.md, "Backtest"): Example 3 number for number (quantiles, CRPS, skill, status),
the replicate draws' spread, and the verdict rules."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from planwise_core.fit.backtest.draws import normal_draw, replicate_parameters
from planwise_core.fit.backtest.scorecard import score_all
from planwise_core.fit.backtest.scoring import crps, score, skill, summarize

FITTED_TERM = [109, 115, 120, 123, 126, 128, 131, 135, 139, 145]
BUILTIN_TERM = [120, 127, 131, 134, 137, 139, 142, 145, 149, 156]
FITTED_PROMO = [46, 51, 54, 56, 58, 60, 62, 64, 67, 72]
BUILTIN_PROMO = [73, 79, 82, 85, 87, 89, 91, 94, 97, 103]


def test_example_3_terminations():
    fitted, builtin = score(FITTED_TERM, 133, 0.05), score(BUILTIN_TERM, 133, 0.05)
    assert (fitted["p10"], fitted["p50"], fitted["p90"]) == pytest.approx((114.4, 127.0, 139.6), abs=1e-9)
    assert (builtin["p10"], builtin["p50"], builtin["p90"]) == pytest.approx((126.3, 138.0, 149.7), abs=1e-9)
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
    assert (builtin["p10"], builtin["p50"], builtin["p90"]) == pytest.approx((78.4, 88.0, 97.6), abs=1e-9)
    assert not builtin["inside80"] and builtin["status"] == "FAIL" and fitted["status"] == "PASS"
    assert round(builtin["rel_crps"], 4) == 0.3646


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
