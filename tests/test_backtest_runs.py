"""`planwise backtest` end to end on a small synthetic history (docs/fit.md, "Backtest"): conditioning on the
actual headcount, determinism of the scorecard, no leakage of held-out snapshots into the fit, the outputs."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from helpers.cli import planwise
from helpers.histories import read_csv
from planwise_core.fit import FitOptions, generate_history
from planwise_core.fit.backtest import BacktestOptions
from planwise_core.fit.backtest.plan import prepare

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backtested(tmp_path_factory):
    base = tmp_path_factory.mktemp("backtest")
    history = generate_history(500, base / "h", snapshots=3, seed=21, first=date(2022, 12, 31))
    proc = planwise("backtest", history, "--replicates", 2, "--max-concurrent", 2, "--out", base / "bt", "--json",
                    "--keep-runs")
    assert proc.returncode == 0, proc.stderr
    return base, history, json.loads(proc.stdout)


def test_outputs_and_conditioning(backtested):
    base, _, result = backtested
    for name in ("scorecard.csv", "scorecard.json", "scorecard.md", "scorecard.html", "actuals.csv",
                 "scenarios.yaml", "fitted/config.yaml", "fitted/tenure_bands.csv", "fitted/cells/fit_cells.csv"):
        assert (base / "bt" / name).is_file(), name
    rows = read_csv(base / "bt" / "scorecard.csv")
    headcount = [r for r in rows if r["metric"] == "headcount.total"]
    assert {r["arm"] for r in headcount} == {"fitted", "built-in"}
    for r in headcount:  # --growth actual: every replicate ends at the actual headcount
        assert r["min"] == r["max"] == r["actual"] and r["conditioned"] == "True"
    assert result["verdict"] in ("PASS", "WARN", "FAIL")
    assert "fan" not in result and "<svg" in (base / "bt" / "scorecard.html").read_text()
    assert len(list((base / "bt" / "runs").rglob("*.duckdb"))) == 4  # kept with --keep-runs


def test_rerun_is_identical_and_held_out_changes_do_not_leak(backtested):
    base, history, _ = backtested
    before = (base / "bt" / "scorecard.json").read_bytes()
    fitted = {p.relative_to(base / "bt"): p.read_bytes() for p in (base / "bt" / "fitted").rglob("*") if p.is_file()}
    proc = planwise("backtest", history, "--replicates", 2, "--max-concurrent", 2, "--out", base / "bt", "--force",
                    "--keep-runs")  # the kept runs are reused
    assert proc.returncode == 0, proc.stderr
    assert (base / "bt" / "scorecard.json").read_bytes() == before
    changed = base / "h2"
    shutil.copytree(history, changed)
    last = changed / "census_2024-12-31.csv"
    last.write_text(last.read_text().replace(",0.06,", ",0.07,"))
    # the fit step alone (the runs come after it): the held-out snapshot never reaches the fit
    prepared = prepare(changed, base / "bt2", None, None, FitOptions(), BacktestOptions(replicates=2))
    prepared[5].con.close()
    for rel, data in fitted.items():
        if rel.name != "fit_manifest.json" and rel.suffix not in (".html", ".md"):
            assert (base / "bt2" / rel).read_bytes() == data, rel
