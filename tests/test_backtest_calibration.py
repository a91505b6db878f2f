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
    common = ("--replicates", 10, "--no-compare-built-in", "--max-concurrent", 2, "--config",
              base / "h" / "truth_config.yaml", "--out", base / "bt", "--keep-runs", "--json")
    out, summaries = {}, {}
    proc = planwise("backtest", base / "h", *common)
    assert proc.returncode == 0, proc.stderr
    summaries["h"] = json.loads(proc.stdout)["summary"]
    out["h"] = _fitted_rows(base / "bt" / "scorecard.csv")
    fitted = json.loads((base / "bt" / "fitted" / "fit_manifest.json").read_text())
    # The shifted history differs only in its held-out snapshot: given its fit snapshots as the same files, into the
    # same folder, the backtest fits the same tables and so plans the same replicate runs, which the batch reuses.
    dates = ("2023-12-31", "2024-12-31", "2025-12-31")
    snaps = [a for d, folder in zip(dates, ("h", "h", "hs"))
             for a in ("--snapshot", f"{d}={base / folder / f'census_{d}.csv'}")]
    proc = planwise("backtest", *snaps, *common, "--force")
    assert proc.returncode == 0, proc.stderr
    summaries["hs"] = json.loads(proc.stdout)["summary"]
    out["hs"] = _fitted_rows(base / "bt" / "scorecard.csv")
    refitted = json.loads((base / "bt" / "fitted" / "fit_manifest.json").read_text())
    assert refitted["published_tables"] == fitted["published_tables"]
    assert json.loads((base / "bt" / "batch.json").read_text())["reused_runs"] == 10
    return out, summaries, base


def _fitted_rows(path):
    return [r for r in read_csv(path) if r["arm"] == "fitted" and r["conditioned"] != "True"]


def test_a_simulator_made_history_is_covered(scorecards):
    scorecards, summaries, base = scorecards
    assert summaries["h"]["verdict"] == "PASS", summaries["h"]
    # The fit recovers the rates that made the history: t = 0.10 and h = 0.25 inside their 95 % intervals.
    fitted = {r["parameter"]: r for r in read_csv(base / "bt" / "fitted" / "cells" / "fit_cells.csv")
              if r["dimension"] == "overall" and r["cell"] == "all"}
    for parameter, truth in (("total_termination_rate", 0.10), ("new_hire_termination_rate", 0.25)):
        assert float(fitted[parameter]["ci_low"]) <= truth <= float(fitted[parameter]["ci_high"]), fitted[parameter]
    headline = [r for r in scorecards["h"] if r["metric"] in HEADLINE]
    assert len(headline) == 6  # headcount.total is conditioned (--growth actual)
    coverage = sum(r["inside80"] == "True" for r in headline) / len(headline)
    assert 0.6 <= coverage <= 1.0, [(r["metric"], r["actual"], r["p10"], r["p90"]) for r in headline]
    assert not [r["metric"] for r in headline if r["status"] == "FAIL"]


def test_a_planted_shift_is_flagged_in_its_band_only(scorecards):
    scorecards, summaries, _ = scorecards
    assert summaries["hs"]["verdict"] != "PASS", summaries["hs"]
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
