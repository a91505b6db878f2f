"""Batch planning and its refusals, the pool sizing and the progress display: no simulation runs here."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from pathlib import Path

import pytest

from planwise_core.batch import BatchError, plan_batch, plan_ensemble, plan_scenarios, run_batch
from planwise_core.batch.executors import run_memory_estimate, size_local_pool
from planwise_core.batch.loop import _output_lock
from planwise_core.batch.progress import LineProgress, LiveProgress
from planwise_core.census import generate_census
from planwise_core.batch.plan import MAX_SEEDS
from planwise_core.config import PlanwiseConfig
from helpers.cli import PLANWISE, planwise
from planwise_core.errors import PlanwiseError
from planwise_core.outputs.export import export_results

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def census(tmp_path_factory) -> Path:
    return generate_census(20, 1, tmp_path_factory.mktemp("plan") / "census.csv")


def test_nested_and_dotted_overrides_give_the_same_configuration(tmp_path):
    plan = plan_scenarios([
        {"name": "nested", "overrides": {"simulation": {"target_growth_rate": 0.05},
                                         "enrollment": {"auto_enrollment": {"enabled": False}}}},
        {"name": "dotted", "overrides": {"simulation.target_growth_rate": 0.05,
                                         "enrollment.auto_enrollment.enabled": False}},
    ], tmp_path)
    nested, dotted = plan.runs
    assert nested.config == dotted.config
    assert nested.config["simulation"]["target_growth_rate"] == 0.05
    assert nested.config["enrollment"]["auto_enrollment"]["enabled"] is False
    assert nested.fingerprint == dotted.fingerprint
    # Everything else is the base configuration's.
    base = PlanwiseConfig().to_dict()
    assert nested.config["workforce"] == base["workforce"]


def test_a_mapping_value_replaces_the_base_value_whole(tmp_path):
    plan = plan_scenarios([{"name": "two_rates", "overrides": {
        "enrollment": {"deferral_rate_distribution": {0.04: 0.5, 0.08: 0.5}}}}], tmp_path)
    assert plan.runs[0].config["enrollment"]["deferral_rate_distribution"] == {0.04: 0.5, 0.08: 0.5}


def test_seeds_runs_folders_and_fingerprints(tmp_path):
    plan = plan_scenarios({"seeds": 2, "scenarios": [
        {"name": "a"}, {"name": "b", "seeds": [9, 3]}, {"name": "c", "overrides": {"random_seed": 100}}]}, tmp_path)
    assert [(r.run_id, r.seed) for r in plan.runs] == [
        ("a/seed-42", 42), ("a/seed-43", 43), ("b/seed-9", 9), ("b/seed-3", 3), ("c/seed-100", 100), ("c/seed-101", 101)]
    assert all(r.config["random_seed"] == r.seed for r in plan.runs)
    assert plan.runs[0].folder == str(tmp_path.resolve() / "runs" / "a" / "seed-42")
    # Orchestration settings do not change a run's tables, so they do not change its fingerprint.
    fast = plan_scenarios([{"name": "a", "overrides": {"orchestration.max_workers": 1}}], tmp_path)
    assert fast.runs[0].fingerprint == plan.runs[0].fingerprint
    other = plan_scenarios([{"name": "a", "overrides": {"compensation.cola_rate": 0.01}}], tmp_path)
    assert other.runs[0].fingerprint != plan.runs[0].fingerprint


def test_ensemble_plan_uses_consecutive_seeds_from_the_first(tmp_path):
    plan = plan_ensemble(3, tmp_path, base_config=PlanwiseConfig().with_overrides(random_seed=5))
    assert [r.run_id for r in plan.runs] == ["ensemble/seed-5", "ensemble/seed-6", "ensemble/seed-7"]
    assert plan_ensemble(2, tmp_path, first_seed=70, name="e2").runs[1].run_id == "e2/seed-71"
    with pytest.raises(BatchError, match="`seeds` must be between 1 and"):
        plan_ensemble(0, tmp_path)
    with pytest.raises(BatchError, match="`name` must be letters"):
        plan_ensemble(2, tmp_path, name="my ensemble")


def test_library_errors_name_parameters_and_only_the_cli_names_flags(tmp_path):
    """A Python caller is told about the parameter it passed; the command line about its flag."""
    from planwise_core.api import BatchSimulationProcessor

    processor = BatchSimulationProcessor(max_concurrent=1, output_dir=tmp_path / "out", report=False)
    with pytest.raises(BatchError) as raised:
        asyncio.run(processor.process_ensemble(0))
    assert str(raised.value) == f"`seeds` must be between 1 and {MAX_SEEDS}, got 0." and "--" not in str(raised.value)
    assert raised.value.for_cli() == f"--seeds must be between 1 and {MAX_SEEDS}, got 0."
    assert not (tmp_path / "out").exists()

    usage = planwise("ensemble", "--seeds", 1, "--name", "my ensemble", "--output", tmp_path / "e", cwd=tmp_path)
    assert usage.returncode == 1 and usage.stderr.startswith("Error: --name must be letters"), usage.stderr
    with pytest.raises(PlanwiseError) as raised:
        export_results(tmp_path / "missing.duckdb", "csv", tmp_path / "x")
    assert "--" not in str(raised.value)


def test_scenario_problems_make_only_that_scenario_invalid(tmp_path, census):
    plan = plan_scenarios({"census": str(census), "scenarios": [
        {"name": "ok"},
        {"name": "bad", "overrides": {"simulation.target_growth_rat": 0.1, "workforce.total_termination_rate": 3},
         "seeds": [1, 1], "plugin": "turbo", "census": "missing.csv", "colour": "red"},
        {"name": "bad_seeds", "seeds": 0},
    ]}, tmp_path / "out", relative_to=tmp_path)
    assert [r.run_id for r in plan.runs] == ["ok/seed-42"]
    assert plan.runs[0].census == str(census.resolve())
    invalid = {i.scenario: i.problems for i in plan.invalid}
    bad = "\n".join(invalid["bad"])
    for expected in ("simulation.target_growth_rat: unknown key (did you mean 'target_growth_rate'?)",
                     "workforce.total_termination_rate", "seeds: listed more than once: [1]",
                     "plugin: unknown engine plugin 'turbo'; choose one of: compiled, legacy, optimized",
                     "census: file not found", "colour: unknown key"):
        assert expected in bad, (expected, bad)
    assert "a count must be between 1" in invalid["bad_seeds"][0]
    assert not (tmp_path / "out").exists(), "planning writes nothing"


@pytest.mark.parametrize("content, expected", [
    ("scenarios: [{name: a}, {name: a}, {overrides: {}}]\nextra: 1\n",
     ["names must be unique, repeated: a", "scenarios[3].name: every scenario needs a name", "extra: unknown key"]),
    ("scenarios:\n  - name: a\n    overrides: {simulation.end_year: 2030\n",
     ["line 4, column 1: YAML syntax error"]),
    ("just text\n", ["expected a list of scenarios"]),
    ("scenarios: []\n", ["scenarios: expected a non-empty list"]),
    ("base_config: nowhere.yaml\nscenarios: [{name: a}]\n",
     ["base_config: cannot read configuration file: No such file"]),
    ("scenarios: [{name: 'has space'}]\n", ["scenarios[1].name"]),
])
def test_a_bad_scenario_file_is_refused_whole_with_every_problem(tmp_path, content, expected):
    file = tmp_path / "scenarios.yaml"
    file.write_text(content)
    with pytest.raises(BatchError) as info:
        plan_batch(file, tmp_path / "out")
    for text in expected:
        assert text in str(info.value), str(info.value)
    assert str(file) in str(info.value)


def test_cli_refuses_a_bad_file_and_leaves_an_earlier_batch_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "batch.json").write_text("earlier")
    file = tmp_path / "scenarios.yaml"
    file.write_text("scenarios: [{name: a}, {name: a}]\n")
    proc = planwise("batch", file, "--output", out, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: Invalid scenario file") and "repeated: a" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["batch.json"] and (out / "batch.json").read_text() == "earlier"

    file.write_text("scenarios: [{name: a}]\n")
    bad_dask = planwise("batch", file, "--output", out, "--dask", "udp://host:1", cwd=tmp_path)
    assert bad_dask.returncode == 1 and "--dask must be 'local' or a scheduler address" in bad_dask.stderr
    assert sorted(p.name for p in out.iterdir()) == ["batch.json"]

    usage = planwise("ensemble", "--seeds", 0, cwd=tmp_path)
    assert usage.returncode == 2 and "--seeds" in usage.stderr


def test_dry_run_lists_the_runs_of_the_example_file(tmp_path):
    proc = planwise("batch", ROOT / "config" / "scenarios_example.yaml", "--output", tmp_path / "out", "--dry-run",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = [line.split()[0] for line in proc.stdout.splitlines()]
    assert runs == ["baseline/seed-42", *(f"high_growth/seed-{s}" for s in range(42, 47)),
                    "no_auto_enrollment/seed-42", "lean_merit/seed-42",
                    *(f"{design}/seed-{s}" for design in ("richer_match", "add_core", "safe_harbor") for s in (42, 43, 44))]
    assert not (tmp_path / "out").exists()


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path):
    plan = plan_scenarios([{"name": "a"}], tmp_path / "out")
    with _output_lock(plan.output):
        with pytest.raises(BatchError, match="Another batch is writing to"):
            run_batch(plan)


def test_pool_size_follows_cores_runs_and_memory(tmp_path, census):
    plan = plan_scenarios([{"name": "a", "seeds": 5}], tmp_path, census=census)
    n, why = size_local_pool(plan)
    assert 1 <= n <= min(os.cpu_count(), 5)
    assert "cores" in why and "GiB available" in why and "20-employee run" in why
    assert size_local_pool(plan, requested=3)[0] == 3
    one = plan_scenarios([{"name": "a"}], tmp_path, census=census)
    assert size_local_pool(one)[0] == 1
    # The estimate grows with the census: measured 555 MB at 10K, 2,931 MB at 1M (docs/performance.md).
    assert 540e6 < run_memory_estimate(10_000) < 600e6 and 2.8e9 < run_memory_estimate(1_000_000) < 3.1e9


def _feed(progress, plan):
    progress.start(plan, "local process pool of 2", reused=["b/seed-42"])
    progress.event("a/seed-42", {"stage": "started"})
    progress.event("a/seed-42", {"stage": "foundation"})
    progress.event("a/seed-42", {"stage": "foundation_done"})
    progress.event("a/seed-42", {"stage": "year", "year": 2025, "level": "high"})
    progress.event("a/seed-42", {"stage": "year_done", "year": 2025})
    progress.finished({"run_id": "c/seed-42", "status": "failed", "error": "census.csv is invalid\nmore", "seconds": 1.0})
    progress.close()


def test_progress_shows_each_run_and_the_batch_total(tmp_path):
    plan = plan_scenarios([{"name": n, "overrides": {"simulation.end_year": 2026}} for n in "abc"], tmp_path)
    stream = io.StringIO()
    _feed(LineProgress(stream), plan)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "batch: 3 run(s) on local process pool of 2; 1 already complete"
    assert "[1/3] a/seed-42: foundation (1/3 steps)" in lines
    assert "[1/3] a/seed-42: year 2025 done (2/3 steps)" in lines
    assert "[2/3] c/seed-42: FAILED: census.csv is invalid in 1.0s (0/3 steps)" in lines
    assert lines[-1] == "batch: 2/3 runs finished, 1 reused, 1 failed, 1 running"

    live = io.StringIO()
    _feed(LiveProgress(live), plan)
    last_frame = live.getvalue().rsplit("\x1b[J", 1)[1].splitlines()
    assert len(last_frame) == 4  # one line per run, then the total
    assert last_frame[0].startswith("a/seed-42 [#############-------] 2/3") and "year 2025 done" in last_frame[0]
    assert last_frame[1].startswith("b/seed-42 [####################] 3/3")
    assert "FAILED: census.csv is invalid" in last_frame[2]
    assert last_frame[3] == "batch: 2/3 runs finished, 1 reused, 1 failed, 1 running"


def test_an_existing_scheduler_is_checked_before_anything_runs(tmp_path, monkeypatch):
    from distributed import LocalCluster

    import planwise_core.batch.executors as batch

    out = tmp_path / "out"
    out.mkdir()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        with batch.dask_executor(address, out) as handle:
            assert handle.description == f"Dask scheduler {address} (1 worker, 1 thread)"
            assert handle.slots == 1
            assert handle.executor.submit(batch._worker_probe, str(out)).result()["sees_output"] is True
        with pytest.raises(BatchError, match="cannot see the batch output folder .*elsewhere"):
            with batch.dask_executor(address, tmp_path / "elsewhere"):
                pass
    monkeypatch.setattr(batch, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(BatchError, match="Cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        with batch.dask_executor("tcp://127.0.0.1:1", out):
            pass


def test_the_plan_keeps_every_scenario_in_file_order_with_its_description_and_overrides(tmp_path):
    plan = plan_scenarios([
        {"name": "rich_match", "description": "a richer match", "overrides": {"simulation": {"target_growth_rate": 0.05}}},
        {"name": "broken", "description": 7, "overrides": {"workforce.total_termination_rate": 1.5}},
        {"name": "baseline"},
    ], tmp_path)
    assert [i.scenario for i in plan.invalid] == ["broken"]
    assert [(s.scenario, s.position, s.description, s.overrides) for s in plan.scenarios] == [
        ("rich_match", 1, "a richer match", {"simulation": {"target_growth_rate": 0.05}}),
        ("broken", 2, "7", {"workforce.total_termination_rate": 1.5}),
        ("baseline", 3, "", {})]


@pytest.mark.parametrize("name", ["base\n", "base\r", "\nbase", "ba\nse"])
def test_a_scenario_name_with_a_line_break_is_refused(tmp_path, name):
    with pytest.raises(BatchError, match=r"scenarios\[1\]\.name"):
        plan_scenarios([{"name": name}], tmp_path / "out")
    with pytest.raises(BatchError, match="`name` must be"):
        plan_ensemble(1, tmp_path / "out", name=name)


def test_a_scenario_config_that_is_not_a_configuration_is_never_copied(tmp_path):
    (tmp_path / "passwd").write_text("root:x:0:0:TOPSECRET-PASSWD:/root:/bin/bash\n" * 3)
    (tmp_path / "creds.yaml").write_text("api_key: TOPSECRET-KEY\nsimulation: TOPSECRET-SECTION\n")
    file = tmp_path / "scenarios.yaml"
    file.write_text("scenarios:\n  - {name: a, config: passwd}\n  - {name: b, config: creds.yaml}\n")
    plan = plan_batch(file, tmp_path / "out")
    problems = "\n".join(p for invalid in plan.invalid for p in invalid.problems)
    assert [i.scenario for i in plan.invalid] == ["a", "b"]
    assert f"{tmp_path / 'passwd'} is not a valid configuration (problems at: (top level);" in problems
    assert "(problems at: api_key, simulation, workforce, random_seed; `planwise validate-config" in problems
    assert "TOPSECRET" not in problems, problems

    proc = planwise("batch", file, "--output", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name == "batch.json" for p in written)
    for path in written:
        assert b"TOPSECRET" not in path.read_bytes(), path


def test_with_every_engine_blocked_the_choice_is_never_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANWISE_BLOCK_PLUGINS", "compiled,optimized,legacy")
    with pytest.raises(BatchError) as info:
        plan_scenarios({"plugin": "optimized", "scenarios": [{"name": "a"}]}, tmp_path / "out")
    assert "choose one of: ;" not in str(info.value) and not str(info.value).rstrip().endswith("of:")
    assert "no engine plugin is available (PLANWISE_BLOCK_PLUGINS=compiled,optimized,legacy blocks them)" in str(info.value)
    env = dict(os.environ, PLANWISE_BLOCK_PLUGINS="compiled,optimized,legacy")
    proc = subprocess.run([str(PLANWISE), "run", "--database", tmp_path / "x.duckdb"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("Error: No engine serves optimization level 'max'. No engine plugin "
                                   "is available (PLANWISE_BLOCK_PLUGINS=compiled,optimized,legacy blocks them): unblock or "
                                   "install one, e.g. optimized")
