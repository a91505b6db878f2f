"""Calibration on a history the simulator made (docs/fit.md, "Simulator-made histories" and "Backtest"): the
backtest of a stationary history made by PlanWise with known rates (its own configuration as the base `--config`)
covers the actuals and fails no headline metric;
the same history with one tenure band's turnover doubled in its last year is flagged in that band's terminations
and only in what follows from them: every other metric's actual moves less than the forecast's own spread."""

from __future__ import annotations

import json

import pytest

from helpers.cli import planwise
from helpers.histories import read_csv
from planwise_core.fit.backtest.scoring import HEADLINE
from planwise_core.fit.simulated import shift_last_year

pytestmark = pytest.mark.slow
BAND = "2-4"
# What a doubled 2-4 band may move (docs/fit.md, "Simulator-made histories"): its terminations and their total,
# the year-end headcount of the band and the next one, the replacing hires (shortest-service band, pay).
FOLLOWS = {f"flows.experienced_terminations.tenure_band.{BAND}", "flows.experienced_terminations",
           "flows.hires_active", "flows.hires", "flows.new_hire_terminations", f"headcount.tenure_band.{BAND}",
           "headcount.tenure_band.5-9", "headcount.tenure_band.<2", "pay.payroll", "pay.average_salary",
           "pay.new_hire_average_salary"}


@pytest.fixture(scope="module")
def scorecards(tmp_path_factory):
    base = tmp_path_factory.mktemp("calibration")
    proc = planwise("census", "history", "--simulator", "--employees", 1000, "--years", 3, "--seed", 11,
                    "--out", base / "h")
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((base / "h" / "truth.json").read_text())
    assert truth["total_termination_rate"] == 0.10 and set(truth["yearly"]["t"]) == {"2024", "2025"}
    shift_last_year(base / "h", base / "hs", (BAND, 2.0))
    assert (base / "hs" / "census_2024-12-31.csv").read_bytes() == (base / "h" / "census_2024-12-31.csv").read_bytes()
    out = {}
    for name in ("h", "hs"):
        proc = planwise("backtest", base / name, "--replicates", 10, "--no-compare-built-in", "--max-concurrent", 2,
                        "--config", base / "h" / "truth_config.yaml", "--out", base / f"bt_{name}", "--json")
        assert proc.returncode == 0, proc.stderr
        out[name] = [r for r in read_csv(base / f"bt_{name}" / "scorecard.csv")
                     if r["arm"] == "fitted" and r["conditioned"] != "True"]
    return out


def test_a_simulator_made_history_is_covered(scorecards):
    headline = [r for r in scorecards["h"] if r["metric"] in HEADLINE]
    assert len(headline) == 6  # headcount.total is conditioned (--growth actual)
    coverage = sum(r["inside80"] == "True" for r in headline) / len(headline)
    assert 0.6 <= coverage <= 1.0, [(r["metric"], r["actual"], r["p10"], r["p90"]) for r in headline]
    assert not [r["metric"] for r in headline if r["status"] == "FAIL"]


def test_a_planted_shift_is_flagged_in_its_band_only(scorecards):
    shifted = {r["metric"]: r for r in scorecards["hs"]}
    unshifted = {r["metric"]: r for r in scorecards["h"]}
    band = shifted[f"flows.experienced_terminations.tenure_band.{BAND}"]
    assert band["status"] != "PASS" and float(band["actual"]) > float(band["p90"])
    assert float(band["actual"]) >= 1.5 * float(unshifted[band["metric"]]["actual"])
    for metric, row in shifted.items():
        # The fit (same snapshots) and so the forecast are the same: only the actuals can move.
        assert (row["p10"], row["p50"], row["p90"]) == tuple(unshifted[metric][c] for c in ("p10", "p50", "p90"))
        if metric not in FOLLOWS:  # what the shift does not reach moves less than the forecast's own 80 % width
            moved = abs(float(row["actual"]) - float(unshifted[metric]["actual"]))
            assert moved <= float(row["p90"]) - float(row["p10"]), (metric, row["actual"], unshifted[metric]["actual"])
