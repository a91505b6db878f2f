"""Scenario batches and seed ensembles, end to end: real runs in pool processes and on a Dask LocalCluster.

Runs are small (150 employees, 2 years) so the batches fit the suite's budget; what is checked does not
depend on size: the same tables wherever a run ran, failures contained and redone, bands from the runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from planwise_core.api import BatchSimulationProcessor
from planwise_core.batch import plan_batch
from planwise_core.census import generate_census
from planwise_core.outputs.compare import all_identical
from helpers.common import compare_outputs
from planwise_core.config import config_from_dict
from planwise_core.orchestrator import Simulation
from test_report import body_attributes, browse, chart_elements
from helpers.cli import PLANWISE, planwise

pytestmark = pytest.mark.slow

END_YEAR = 2026
METRIC_SQL = {  # computed here straight from a run's tables, independently of summary.py and batch_store.py
    "hires": "select simulation_year, count(*) from fct_yearly_events where event_type = 'hire' group by 1",
    "payroll": "select simulation_year, sum(prorated_annual_compensation)::double from fct_workforce_snapshot "
               "group by 1",
    "enrolled_share_of_actives": "select simulation_year, round(count(*) filter (where is_enrolled) / count(*), 4) "
                                 "from fct_workforce_snapshot where employment_status = 'active' group by 1",
    "total_employer_gross": "select simulation_year, sum(employer_match + employer_core)::double from fct_dc_contributions "
                     "group by 1",
    "employer_cost_pct_payroll": "select simulation_year, sum(employer_match + employer_core)::double "
                                 "/ sum(plan_comp)::double from fct_dc_contributions group by 1",
}


@pytest.fixture(scope="module")
def census(tmp_path_factory) -> Path:
    return generate_census(150, 11, tmp_path_factory.mktemp("batch") / "census.csv")


def write_scenarios(folder: Path, scenarios: list, **top) -> Path:
    path = folder / "scenarios.yaml"
    path.write_text(yaml.safe_dump({**top, "scenarios": scenarios}, sort_keys=False))
    return path


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics: position q * (n - 1) of the sorted values."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def test_a_scenario_has_the_same_tables_alone_in_a_local_batch_and_on_a_dask_cluster(tmp_path, census):
    scenario = {"name": "growth", "overrides": {"simulation": {"end_year": END_YEAR, "target_growth_rate": 0.07}},
                "seeds": [7]}
    file = write_scenarios(tmp_path, [scenario], census=str(census))

    # Alone: the same configuration through a plain Simulation in this process.
    (growth,) = plan_batch(file, tmp_path / "unused").runs
    alone = tmp_path / "alone" / "simulation.duckdb"
    result = Simulation(config_from_dict(growth.config), alone, census=census).run()
    assert result["success"], result["error"]

    # A local batch through the CLI (a pool process; test_failures_... runs a pool of two).
    local = planwise("batch", file, "--output", tmp_path / "local", "--json", cwd=tmp_path)
    assert local.returncode == 0, local.stderr[-3000:]
    payload = json.loads(local.stdout)
    assert payload["executor"] == "local process pool of 1"  # sized to the one run
    assert [(r["run_id"], r["status"], r["reused"]) for r in payload["runs"]] == [("growth/seed-7", "completed", False)]

    # The same scenario through the API on a Dask LocalCluster of 2 worker processes.
    processor = BatchSimulationProcessor(2, executor="dask", dask_address="local", output_dir=tmp_path / "dask",
                                         census_path=census)
    runs = asyncio.run(processor.process_scenarios(
        [{"name": "growth", "end_year": END_YEAR, "overrides": {"simulation.target_growth_rate": 0.07},
          "seeds": [7]}]))
    assert processor.last_result.executor == "Dask LocalCluster of 2 worker processes (2 workers, 2 threads)"
    assert [(r["run_id"], r["success"]) for r in runs] == [("growth/seed-7", True)]
    assert runs[0]["worker"].split(":")[1] != str(os.getpid()), "the run must execute in a worker process"

    local_db = tmp_path / "local" / "runs" / "growth" / "seed-7" / "simulation.duckdb"
    dask_db = tmp_path / "dask" / "runs" / "growth" / "seed-7" / "simulation.duckdb"
    for other in (local_db, dask_db):
        comparison = compare_outputs(alone, other)
        assert all_identical(comparison), (other, comparison)
        assert comparison["fct_yearly_events"]["rows_first"] > 150

    # The run has its own database and build folder (year checkpoints) under the batch folder. It ran on the
    # default engine, compiled, from the cache the "alone" run filled: no dbt invocation, so no dbt folder.
    folder = local_db.parent
    assert (folder / ".simulation.duckdb.build" / "state").is_dir()
    assert not (folder / ".simulation.duckdb.build" / ".planwise.dbt").exists()
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "completed" and record["dbt_invocations"] == 0

    # batch.duckdb holds the same per-year numbers as the run's own tables.
    with duckdb.connect(str(tmp_path / "dask" / "batch.duckdb"), read_only=True) as con:
        hires = dict(con.execute("select simulation_year, hires from batch_run_years").fetchall())
    with duckdb.connect(str(dask_db), read_only=True) as con:
        assert hires == dict(con.execute(METRIC_SQL["hires"]).fetchall())


def test_failures_are_contained_reported_and_the_rerun_redoes_only_them(tmp_path, census):
    broken = tmp_path / "broken.csv"
    lines = census.read_text().splitlines()
    fields = lines[5].split(",")
    fields[4] = "lots"  # employee_gross_compensation
    broken.write_text("\n".join(lines[:5] + [",".join(fields)] + lines[6:]) + "\n")
    ensemble = {"name": "ens", "description": "three seeds of the base", "overrides": {"simulation.end_year": END_YEAR},
                "seeds": [1, 2, 3]}
    scenarios = [
        ensemble,
        {"name": "bad_config", "overrides": {"simulation.end_year": END_YEAR, "workforce.total_termination_rate": 1.5,
                                             "simulation.target_growth": 0.1}},
        {"name": "bad_census", "overrides": {"simulation.end_year": END_YEAR}, "census": str(broken)},
    ]
    file = write_scenarios(tmp_path, scenarios, census=str(census))
    out = tmp_path / "out"

    first = planwise("batch", file, "--output", out, "--max-concurrent", 2, cwd=tmp_path)
    assert first.returncode == 1, first.stderr[-3000:]
    # Reported before anything ran: both problems of the invalid scenario, with their keys.
    report_lines = first.stderr.splitlines()
    invalid_at = next(i for i, line in enumerate(report_lines) if "'bad_config' is invalid" in line)
    started_at = next(i for i, line in enumerate(report_lines) if "starting" in line)
    assert invalid_at < started_at
    assert "workforce.total_termination_rate" in first.stderr and "did you mean 'target_growth_rate'" in first.stderr
    # One progress line per run step and the batch total.
    for run in ("ens/seed-1", "ens/seed-2", "ens/seed-3"):
        assert f"{run}: year {END_YEAR} done" in first.stderr
    assert "batch: 4/4 runs finished, 3 completed, 1 failed, 1 invalid scenario(s) not run" in first.stderr
    assert "Error: 2 of 5 runs did not complete" in first.stderr
    assert "bad_census/seed-42 (failed)" in first.stderr and "broken.csv" in first.stderr
    assert "Traceback" not in first.stderr

    summary = json.loads((out / "batch.json").read_text())
    status = {r["run_id"]: r["status"] for r in summary["runs"]}
    assert status == {"ens/seed-1": "completed", "ens/seed-2": "completed", "ens/seed-3": "completed",
                      "bad_census/seed-42": "failed", "bad_config/seed-42": "invalid"}
    failed = next(r for r in summary["runs"] if r["run_id"] == "bad_census/seed-42")
    assert "employee_gross_compensation" in failed["error"] and "at line 6" in failed["error"]

    # The ensemble bands equal percentiles of the three runs' own numbers, computed here.
    per_run = {}
    for seed in (1, 2, 3):
        with duckdb.connect(str(out / "runs" / "ens" / f"seed-{seed}" / "simulation.duckdb"), read_only=True) as con:
            per_run[seed] = {metric: dict(con.execute(sql).fetchall()) for metric, sql in METRIC_SQL.items()}
    with duckdb.connect(str(out / "batch.duckdb"), read_only=True) as con:
        bands = {(m, y): (n, p10, p50, p90) for m, y, n, p10, p50, p90 in con.execute(
            "select metric, simulation_year, runs, p10, p50, p90 from batch_bands where scenario = 'ens'").fetchall()}
        stored = con.execute("select run_id, status from batch_runs order by run_id").fetchall()
    assert stored == sorted(status.items())
    varied = 0
    for metric in METRIC_SQL:
        for year in (2025, END_YEAR):
            values = [float(per_run[seed][metric][year]) for seed in (1, 2, 3)]
            varied += len(set(values)) > 1
            n, p10, p50, p90 = bands[(metric, year)]
            assert n == 3
            for got, q in ((p10, 0.1), (p50, 0.5), (p90, 0.9)):
                assert got == pytest.approx(percentile(values, q), rel=1e-9, abs=1e-6), (metric, year, q, values)
    assert varied >= 3, "the seeds must give different results, or the bands test nothing"

    # Fix both and run the same command again: only the two missing runs run, the ensemble is reused as is.
    before = {seed: (out / "runs" / "ens" / f"seed-{seed}" / "simulation.duckdb").stat().st_mtime_ns
              for seed in (1, 2, 3)}
    broken.write_text(census.read_text())
    scenarios[1]["overrides"] = {"simulation.end_year": END_YEAR, "workforce.total_termination_rate": 0.15}
    write_scenarios(tmp_path, scenarios, census=str(census))
    second = planwise("batch", file, "--output", out, "--max-concurrent", 1, "--json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    payload = json.loads(second.stdout)
    assert {r["run_id"]: (r["status"], r["reused"]) for r in payload["runs"]} == {
        "ens/seed-1": ("completed", True), "ens/seed-2": ("completed", True), "ens/seed-3": ("completed", True),
        "bad_config/seed-42": ("completed", False), "bad_census/seed-42": ("completed", False)}
    after = {seed: (out / "runs" / "ens" / f"seed-{seed}" / "simulation.duckdb").stat().st_mtime_ns
             for seed in (1, 2, 3)}
    assert after == before

    # The scenario file's designs in file order; the first (no scenario is named baseline) is the baseline.
    with duckdb.connect(str(out / "batch.duckdb"), read_only=True) as con:
        assert con.execute("select scenario, position, description from batch_scenarios order by position") \
            .fetchall() == [("ens", 1, "three seeds of the base"), ("bad_config", 2, ""), ("bad_census", 3, "")]
    # The batch report shows every scenario side by side and the ensemble's fan charts, in a real browser.
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Differences against the baseline (ens)</h2>" in page and "three seeds of the base" in page
    charts = chart_elements(page)
    # The plan's cost first (employer cost, its share of payroll, match and core), then the workforce metrics.
    assert {name for name in charts if name.startswith("fan-")} == {f"fan-ens-{m}" for m in (
        "total_employer_gross", "employer_cost_pct_payroll", "total_match", "total_core",
        "end_headcount", "hires", "terminations", "payroll", "enrolled_share_of_actives", "average_deferral_rate")}
    dom = browse(out / "report.html", tmp_path, "--dump-dom").stdout
    attributes = body_attributes(dom)
    assert "data-script-error" not in attributes, attributes
    assert attributes["data-charts-rendered"] == attributes["data-charts-total"] == str(len(charts))


def test_an_ensemble_runs_one_configuration_over_n_seeds(tmp_path, census):
    # One worker process: its second run reuses the parsed project (what is tested here is the ensemble).
    result = planwise("ensemble", "--seeds", 2, "--first-seed", 100, "--end-year", 2025, "--census", census,
                      "--output", tmp_path / "ens", "--max-concurrent", 1, "--json", "--no-report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["kind"] == "ensemble" and payload["report"] is None
    assert [r["run_id"] for r in payload["runs"]] == ["ensemble/seed-100", "ensemble/seed-101"]
    for run in payload["runs"]:
        stored = yaml.safe_load((Path(run["database"]).parent / "config.yaml").read_text())
        assert stored["random_seed"] == run["seed"] and stored["simulation"]["end_year"] == 2025
    with duckdb.connect(payload["database"], read_only=True) as con:
        assert con.execute("select kind, planned_runs, completed_runs from batch_info").fetchone() == ("ensemble", 2, 2)
        # the six workforce metrics and the four of the plan's cost (outputs/metrics.py)
        assert con.execute("select count(distinct metric), min(runs), max(runs) from batch_bands").fetchone() == (10, 2, 2)


def test_a_killed_worker_fails_its_run_only_and_the_rerun_finishes_it(tmp_path, census):
    import signal
    import time

    import psutil

    scenarios = [{"name": name, "overrides": {"simulation.end_year": END_YEAR, "compensation.cola_rate": cola}}
                 for name, cola in (("first", 0.02), ("second", 0.03))]
    file = write_scenarios(tmp_path, scenarios, census=str(census))
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("PLANWISE_BLOCK_PLUGINS", "PYTHONPATH")}
    batch = subprocess.Popen([str(PLANWISE), "batch", str(file), "--output", str(out), "--max-concurrent", "1"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress = out / "runs" / "first" / "seed-42" / "progress.jsonl"
    deadline = time.monotonic() + 180
    while not (progress.exists() and '"year_done"' in progress.read_text()):
        assert batch.poll() is None and time.monotonic() < deadline, batch.stderr.read() if batch.poll() else "timeout"
        time.sleep(0.2)
    workers = [p for p in psutil.Process(batch.pid).children(recursive=True)
               if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())]
    assert len(workers) == 1, [p.cmdline() for p in workers]
    workers[0].send_signal(signal.SIGKILL)  # as the out-of-memory killer would
    stdout, stderr = batch.communicate(timeout=300)
    assert batch.returncode == 1, stderr[-3000:]
    assert "first/seed-42 (failed): the worker running this run was lost (BrokenProcessPool" in stderr
    status = {r["run_id"]: r["status"] for r in json.loads((out / "batch.json").read_text())["runs"]}
    assert status == {"first/seed-42": "failed", "second/seed-42": "completed"}, "the pool is rebuilt for the rest"

    again = planwise("batch", file, "--output", out, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    runs = {r["run_id"]: r for r in json.loads(again.stdout)["runs"]}
    assert runs["second/seed-42"]["reused"] is True
    assert runs["first/seed-42"]["status"] == "completed" and runs["first/seed-42"]["completed_years"] == [2025, 2026]
    # The year the killed worker had finished (and checkpointed) is resumed, not simulated again.
    assert runs["first/seed-42"]["resumed_years"] == [2025]


def test_killing_the_batch_ends_its_workers_and_the_rerun_records_agree(tmp_path, census):
    import signal
    import time

    import psutil

    scenarios = [{"name": "only", "overrides": {"simulation.end_year": END_YEAR}}]
    file = write_scenarios(tmp_path, scenarios, census=str(census))
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("PLANWISE_BLOCK_PLUGINS", "PYTHONPATH")}
    batch = subprocess.Popen([str(PLANWISE), "batch", str(file), "--output", str(out), "--max-concurrent", "1"],
                             cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress = out / "runs" / "only" / "seed-42" / "progress.jsonl"
    deadline = time.monotonic() + 180
    while not (progress.exists() and '"year"' in progress.read_text()):
        assert batch.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    workers = [p for p in psutil.Process(batch.pid).children(recursive=True)
               if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())]
    assert workers
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, "pool workers outlived their batch"
    record = json.loads((out / "runs" / "only" / "seed-42" / "run.json").read_text())
    assert record["status"] == "running"  # the killed run never claims to have finished

    again = planwise("batch", file, "--output", out, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    run = json.loads(again.stdout)["runs"][0]
    assert run["status"] == "completed"
    assert json.loads((out / "runs" / "only" / "seed-42" / "run.json").read_text())["status"] == "completed"
