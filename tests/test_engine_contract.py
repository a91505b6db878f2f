"""The engine contract (planwise_core/engines.py): an engine without dbt, installed through a real entry point,
runs years and gets a retry; a name or a level claimed twice is an error naming both distributions."""

from __future__ import annotations

import sys

import duckdb
import pytest

from helpers.cli import copy_dist
from planwise_core.census import generate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.engines import engine_specs
from planwise_core import hookimpl
from planwise_core.errors import PluginError
from planwise_core.events import FoundationDone, FoundationStarted, YearDone, YearStarted
from planwise_core.manager import engine_names, get_plugin_manager
from planwise_core.orchestrator import Simulation
from planwise_core.run_result import load_run_result


@pytest.fixture
def install_toy(tmp_path, monkeypatch):
    monkeypatch.delenv("PLANWISE_BLOCK_PLUGINS", raising=False)

    def install(entry_point: str = "toy") -> None:
        site = copy_dist("toyengine", tmp_path)
        if entry_point != "toy":
            (site / "toy_engine_dist-1.0.dist-info" / "entry_points.txt").write_text(
                f"[planwise]\n{entry_point} = toy_engine\n")
        monkeypatch.syspath_prepend(str(site))

    yield install
    sys.modules.pop("toy_engine", None)


def test_an_engine_without_dbt_runs_the_years_and_each_gets_a_retry(tmp_path, install_toy):
    install_toy()
    pm = get_plugin_manager(blocked=("compiled", "optimized", "legacy"))  # no dbt engine at all
    census = generate_census(40, 5, tmp_path / "census.parquet")
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026, "orchestration.retry_backoff_seconds": 0})

    result = Simulation(config, tmp_path / "toy.duckdb", census=census, plugin="toy", pm=pm).run()

    assert result["success"] and result["completed_years"] == [2025, 2026]
    assert {y: (d["plugin"], d["attempts"], d["rows"]) for y, d in result["years"].items()} == {
        "2025": ("toy", 2, 40), "2026": ("toy", 2, 40)}
    assert result["plugin_metrics"]["toy"] == {"attempts": {"2025": 2, "2026": 2}}
    with duckdb.connect(str(tmp_path / "toy.duckdb"), read_only=True) as con:  # the failed attempts' rows are gone
        counts = con.execute("select simulation_year, count(*), count(distinct employee_id) from fct_workforce_snapshot "
                             "group by 1 order by 1").fetchall()
    assert counts == [(2025, 40, 40), (2026, 40, 40)]
    # The run log gives the same answer to "which run produced these results, and how did it go".
    loaded = load_run_result(tmp_path / "toy.duckdb")
    assert (loaded.simulation_id, loaded.success, loaded.completed_years, loaded.failed_years) == (
        result.simulation_id, True, (2025, 2026), ())
    assert [(y.year, y.plugin, y.attempts, y.rows) for y in loaded.years] == [(2025, "toy", 2, 40), (2026, "toy", 2, 40)]
    assert (loaded.census, loaded.assumptions) == (result.census, result.assumptions)


def test_the_run_result_dict_keeps_its_documented_keys(tmp_path, install_toy):
    install_toy()
    pm = get_plugin_manager(blocked=("compiled", "optimized", "legacy"))
    census = generate_census(5, 5, tmp_path / "census.parquet")
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025, "orchestration.retry_backoff_seconds": 0})
    result = Simulation(config, tmp_path / "toy.duckdb", census=census, plugin="toy", pm=pm,
                        performance_mode=True).run()
    as_dict = result.to_dict()
    assert list(as_dict) == [
        "simulation_id", "success", "database", "completed_years", "failed_years", "success_rate",
        "total_execution_time", "years", "resumed_years", "error", "continued_from", "performance_metrics",
        "plugin_metrics", "state_metrics", "summary", "census", "assumptions", "ndt"]
    assert list(as_dict["years"]["2025"]) == [
        "plugin", "optimization_level", "seconds", "rows", "dbt_invocations", "attempts", "steps"]
    assert as_dict["completed_years"] == [2025] and result["success"] is True


def test_the_built_in_engines_declare_their_levels(install_toy):
    install_toy()
    specs = engine_specs(get_plugin_manager())
    assert {name: spec.levels for name, spec in specs.items()} == {
        "compiled": ("max",), "legacy": ("fallback",), "optimized": ("high", "medium", "low"), "toy": ()}


def test_an_engine_named_like_a_built_in_one_is_an_error_naming_both_distributions(install_toy, monkeypatch):
    monkeypatch.setenv("PLANWISE_TOY_ENGINE_NAME", "legacy")
    install_toy()
    pm = get_plugin_manager()
    with pytest.raises(PluginError) as info:
        engine_names(pm)
    assert str(info.value).startswith(
        "Conflicting engines for 'legacy': planwise (plugin legacy), toy-engine-dist (plugin toy).")


def test_an_entry_point_named_like_a_built_in_plugin_is_an_error_naming_both_distributions(install_toy):
    install_toy(entry_point="optimized")
    with pytest.raises(PluginError, match=r"^Conflicting plugins for 'optimized': planwise, toy-engine-dist\. "):
        get_plugin_manager()


class MetricsRecorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def collect_metrics(self, ctx):
        self.calls.append(ctx.run_id)


def test_collect_metrics_is_called_after_a_failed_foundation_too(tmp_path, install_toy, monkeypatch):
    monkeypatch.setenv("PLANWISE_TOY_FOUNDATION_FAILS", "1")
    install_toy()
    pm = get_plugin_manager(blocked=("compiled", "optimized", "legacy"))
    recorder = MetricsRecorder()
    pm.register(recorder, name="recorder")
    census = generate_census(5, 5, tmp_path / "census.parquet")
    simulation = Simulation(PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025}), tmp_path / "toy.duckdb",
                            census=census, plugin="toy", pm=pm)

    with pytest.raises(RuntimeError, match="the foundation fails"):
        simulation.run()
    assert recorder.calls == [simulation.run_id]


def test_each_year_sees_its_events_in_order(tmp_path, install_toy):
    install_toy()
    pm = get_plugin_manager(blocked=("compiled", "optimized", "legacy"))
    census = generate_census(5, 5, tmp_path / "census.parquet")
    events = []
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025, "orchestration.retry_backoff_seconds": 0})
    Simulation(config, tmp_path / "toy.duckdb", census=census, plugin="toy", pm=pm, progress=events.append).run()

    assert [type(e) for e in events] == [FoundationStarted, FoundationDone, YearStarted, YearStarted, YearDone]
    # the default level (max) names the first rung; the first attempt failed: retried at its level
    assert events[2] == events[3] == YearStarted(2025, "max")
    assert events[4].year == 2025 and events[4].result.plugin == "toy"


def test_the_default_level_without_its_engine_starts_at_the_next_served_level_with_a_warning(caplog):
    from planwise_core.levels import fallback_chain

    served = {"high": "optimized", "medium": "optimized", "low": "optimized", "fallback": "legacy"}  # compiled blocked
    with caplog.at_level("WARNING", logger="planwise.run"):
        chain = fallback_chain("max", 2, served)
    assert [(level.name, level.plugin) for level in chain] == [
        ("high", "optimized"), ("medium", "optimized"), ("low", "optimized"), ("fallback", "legacy")]
    assert ["No engine serves optimization level 'max' (blocked or not installed): starting at 'high' (optimized)."] \
        == [record.getMessage() for record in caplog.records]
    caplog.clear()
    assert fallback_chain("max", 2, dict(served, max="compiled"))[0].plugin == "compiled" and not caplog.records
    assert fallback_chain("max", 2, {}) == []  # nothing served: the orchestrator's error names the way out
