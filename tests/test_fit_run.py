"""Round trip of a fit into a run (docs/fit.md, "Output"): the written tables pass the assumptions validator,
`planwise run --assumptions DIR --config DIR/config.yaml --census <last snapshot>` runs as is (the folder's top
level holds only parameter tables, the cell CSVs are in `cells/`), and the run records the fitted tables' hashes."""

from __future__ import annotations

import json

import duckdb
import pytest

from helpers.cli import planwise
from helpers.histories import manifest
from planwise_core.assumptions import resolve_assumptions
from planwise_core.config import load_config
from planwise_core.fit import generate_history


@pytest.mark.slow
def test_fit_folder_runs_as_is_and_the_run_records_its_hashes(tmp_path):
    history = generate_history(400, tmp_path / "h", snapshots=3, seed=9)
    proc = planwise("census", "history", "--employees", 400, "--years", 3, "--seed", 9, "--out", tmp_path / "h2")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "h2" / "census_2023-12-31.csv").read_bytes() == (history / "census_2023-12-31.csv").read_bytes()
    proc = planwise("fit", history, "--out", tmp_path / "fit", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    fitted = resolve_assumptions(load_config(tmp_path / "fit" / "config.yaml"))  # its `assumptions.folder` is "."
    published = manifest(tmp_path / "fit")["published_tables"]
    assert {n: t.sha256 for n, t in fitted.tables.items()} == {n: p["sha256"] for n, p in published.items()}
    database = tmp_path / "run.duckdb"
    assert sorted(p.name for p in (tmp_path / "fit").glob("*.csv")) == sorted(f"{n}.csv" for n in result["tables"]
                                                                             if published[n]["replaced"])
    proc = planwise("run", "--assumptions", tmp_path / "fit", "--config", tmp_path / "fit" / "config.yaml",
                    "--census", result["snapshots"][-1]["file"], "--end-year", 2024, "--database", database)
    assert proc.returncode == 0, proc.stderr
    with duckdb.connect(str(database), read_only=True) as con:
        recorded = json.loads(con.execute("select assumptions_json from planwise_run_log").fetchone()[0])
    assert {n: v["sha256"] for n, v in recorded.items()} == {n: p["sha256"] for n, p in published.items()}
    assert recorded["tenure_bands"]["replaced"] and recorded["tenure_bands"]["source"].endswith("tenure_bands.csv")


def test_existing_output_is_refused_and_left_untouched(tmp_path):
    history = generate_history(300, tmp_path / "h", snapshots=2, seed=4)
    (tmp_path / "fit").mkdir()
    (tmp_path / "fit" / "keep.txt").write_text("mine")
    proc = planwise("fit", history, "--out", tmp_path / "fit")
    assert proc.returncode == 1 and "--force" in proc.stderr and "Traceback" not in proc.stderr
    assert [p.name for p in (tmp_path / "fit").iterdir()] == ["keep.txt"]
    proc = planwise("fit", tmp_path / "missing", "--out", tmp_path / "other")
    assert proc.returncode == 1 and "does not exist" in proc.stderr and not (tmp_path / "other").exists()


def test_a_simulator_made_history_needs_irs_years_and_a_real_band(tmp_path):
    proc = planwise("census", "history", "--simulator", "--employees", 50, "--first-date", "2021-12-31",
                    "--out", tmp_path / "h")
    assert proc.returncode == 2 and "IRS limits" in proc.stderr and not (tmp_path / "h").exists()
    proc = planwise("census", "history", "--simulator", "--employees", 50, "--shift", "3-4", 2, "--out", tmp_path / "h")
    assert proc.returncode == 2 and "no tenure band '3-4'" in proc.stderr and "2-4" in proc.stderr
    assert not (tmp_path / "h").exists()
