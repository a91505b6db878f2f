"""The programmatic API (planwise_core.api, docs/api.md): seed signatures, docs examples, real runs.

Runtime budget (<= 90 s for this file): the only real runs are the docs examples (two runs, two foundation
builds, one database, so dbt's partial parse is reused) plus one more run of the docs' orchestrator; the
tests of run results read them from the docs namespace. The legacy engine never runs here: the legacy
benchmark and the engine comparison are tested with stubs.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import subprocess
import sys
from pathlib import Path

import attrs
import duckdb
import pytest

import planwise_core
import planwise_core.api as api
import planwise_core.api.benchmarks  # noqa: F401 - patched below
import planwise_core.api.errors  # noqa: F401 - loaded before the tests below read its module
from planwise_core.errors import CensusError, ConfigError, DatabaseBusyError, PlanwiseError, SimulationError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
EMPTY = inspect.Parameter.empty
HIGH = api.OptimizationLevel.HIGH
MAX = api.OptimizationLevel.MAX  # the default level since issue 27 (the seed's default was HIGH)

# The seed API (orchestrator_api_reference.md, orchestrator_readme.md): parameter names and defaults, in order.
SEED_SIGNATURES = {
    "run_foundation_benchmark": [("optimization_level", EMPTY), ("config_path", None), ("benchmark_mode", False)],
    "run_enhanced_multi_year_simulation": [
        ("start_year", EMPTY), ("end_year", EMPTY), ("optimization_level", EMPTY), ("max_workers", EMPTY),
        ("batch_size", EMPTY), ("enable_compression", EMPTY), ("fail_fast", EMPTY), ("performance_mode", False),
        ("config_path", None)],
    "run_comprehensive_performance_comparison": [
        ("start_year", EMPTY), ("end_year", EMPTY), ("config_path", None), ("benchmark_mode", False)],
    "load_and_validate_config": [("config_path", None)],
    "validate_configuration": [("config", EMPTY)],
    "test_configuration_compatibility": [("config_path", None)],
    "error_context": [("operation", EMPTY), ("troubleshooting_guide", "")],
    "create_multi_year_orchestrator": [
        ("start_year", EMPTY), ("end_year", EMPTY), ("optimization_level", MAX), ("base_config_path", None)],
    "create_high_performance_orchestrator": [
        ("start_year", EMPTY), ("end_year", EMPTY), ("max_workers", 8), ("base_config_path", None)],
    "MultiYearOrchestrator": [("config", EMPTY), ("base_config_path", None)],
    "MultiYearOrchestrator.execute_multi_year_simulation": [],
    "MultiYearOrchestrator._execute_foundation_setup": [],
    "MultiYearOrchestrator.get_performance_summary": [],
    "MultiYearOrchestrator.get_simulation_history": [],
    "PerformanceMonitor": [],
    "PerformanceMonitor.start": [],
    "PerformanceMonitor.checkpoint": [("name", EMPTY)],
    "PerformanceMonitor.get_summary": [],
}
ASYNC = {"run_foundation_benchmark", "run_enhanced_multi_year_simulation", "run_comprehensive_performance_comparison",
         "MultiYearOrchestrator.execute_multi_year_simulation", "MultiYearOrchestrator._execute_foundation_setup"}
SEED_CONFIG_DEFAULTS = {
    "start_year": EMPTY, "end_year": EMPTY, "optimization_level": MAX, "max_workers": 4, "batch_size": 1000,
    "enable_state_compression": True, "fail_fast": False, "performance_monitoring": True, "census_path": None,
    "database_path": "output/planwise.duckdb", "random_seed": None}
SEED_RESULT_FIELDS = ["simulation_id", "success", "total_execution_time", "completed_years", "failed_years",
                      "success_rate", "performance_metrics"]


def _resolve(dotted: str):
    obj = api
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


# --------------------------------------------------------------------------- shared working folder


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A temporary working directory (cwd) for the whole module; relative paths such as output/ land here."""
    folder = tmp_path_factory.mktemp("api")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        yield folder


@pytest.fixture(scope="module")
def docs_namespace(workdir):
    """Every ```python block of docs/api.md executed as written, in order, in one namespace."""
    namespace = {"__name__": "api_docs"}
    for number, block in enumerate(_python_blocks(DOCS.read_text()), 1):
        try:
            exec(compile(block, f"docs/api.md python block {number}", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - any failure of a docs example fails the test, naming the block
            pytest.fail(f"docs/api.md python block {number} failed: {exc!r}\n{block}")
    return namespace


# --------------------------------------------------------------------------- seed API shape


@pytest.mark.parametrize("name", sorted(SEED_SIGNATURES))
def test_signature_matches_seed(name):
    params = [p for p in inspect.signature(_resolve(name)).parameters.values() if p.name != "self"]
    seed = SEED_SIGNATURES[name]
    assert [(p.name, p.default) for p in params[:len(seed)]] == seed
    for extra in params[len(seed):]:
        # Extensions never break seed calls: keyword-only or with a default, or **kwargs.
        assert (extra.kind in (extra.KEYWORD_ONLY, extra.VAR_KEYWORD) or extra.default is not EMPTY), extra


def test_create_multi_year_orchestrator_takes_config_kwargs():
    assert list(inspect.signature(api.create_multi_year_orchestrator).parameters.values())[-1].kind \
        is inspect.Parameter.VAR_KEYWORD


@pytest.mark.parametrize("name", sorted(SEED_SIGNATURES))
def test_async_where_the_seed_is_async(name):
    assert inspect.iscoroutinefunction(_resolve(name)) == (name in ASYNC)


def test_optimization_level_values():
    assert {level.name: level.value for level in api.OptimizationLevel} == {
        "MAX": "max", "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "FALLBACK": "fallback"}


def test_multi_year_config_fields_and_defaults():
    fields = {f.name: f for f in attrs.fields(api.MultiYearConfig)}
    for name, default in SEED_CONFIG_DEFAULTS.items():
        assert (fields[name].default if fields[name].default is not attrs.NOTHING else EMPTY) == default, name
    # Unsupported seed fields are omitted rather than silently ignored.
    for omitted in ("enable_concurrent_processing", "memory_limit_gb", "transition_strategy", "enable_validation"):
        assert omitted not in fields
        with pytest.raises(TypeError):
            api.MultiYearConfig(start_year=2025, end_year=2025, **{omitted: True})


def test_multi_year_result_fields():
    names = [f.name for f in attrs.fields(api.MultiYearResult)]
    assert names[:len(SEED_RESULT_FIELDS)] == SEED_RESULT_FIELDS and "raw" in names
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        api.MultiYearResult(simulation_id="x", success=True, total_execution_time=0.0, completed_years=[],
                            failed_years=[], success_rate=1.0, performance_metrics={}, raw={}).success = False


def test_every_public_name_has_a_docstring():
    names = list(api.__all__) + [n for n in SEED_SIGNATURES if "." in n] + ["MultiYearConfig.overrides"]
    missing = [n for n in names if not (inspect.getdoc(_resolve(n)) or "").strip()]
    assert not missing


def test_reexports_are_the_real_functions():
    from planwise_core.api.compat import test_configuration_compatibility
    from planwise_core.config import load_and_validate_config, validate_configuration
    from planwise_core.monitoring.monitor import PerformanceMonitor

    assert api.load_and_validate_config is load_and_validate_config
    assert api.validate_configuration is validate_configuration
    assert api.test_configuration_compatibility is test_configuration_compatibility
    assert api.PerformanceMonitor is PerformanceMonitor


def test_package_exports_the_api_lazily():
    assert set(api.__all__) <= set(planwise_core.__all__)
    assert {"PROJECT", "hookimpl"} <= set(planwise_core.__all__)
    code = ("import sys, planwise_core\n"
            "assert 'planwise_core.api' not in sys.modules, 'api imported eagerly'\n"
            "assert not any(m == 'dbt' or m.startswith('dbt.') for m in sys.modules), 'dbt imported'\n"
            "from planwise_core import MultiYearOrchestrator, run_foundation_benchmark, OptimizationLevel\n"
            "import planwise_core.api as api\n"
            "assert MultiYearOrchestrator is api.MultiYearOrchestrator\n"
            "assert not any(m == 'dbt' or m.startswith('dbt.') for m in sys.modules), 'api imports dbt'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError):
        planwise_core.no_such_name  # noqa: B018


# --------------------------------------------------------------------------- configuration mapping


def test_every_config_field_reaches_the_simulation(tmp_path):
    """A non-default value of each MultiYearConfig field shows up in the Simulation the orchestrator builds."""
    config = api.MultiYearConfig(
        start_year=2026, end_year=2027, optimization_level="medium", max_workers=3, batch_size=77,
        enable_state_compression=False, fail_fast=True, performance_monitoring=False,
        census_path=tmp_path / "census.csv", database_path=tmp_path / "x.duckdb", random_seed=9, max_retries=5,
        plugin="legacy")
    sim = api.MultiYearOrchestrator(config)._simulation()
    checks = {
        "start_year": sim.config.simulation.start_year == 2026,
        "end_year": sim.config.simulation.end_year == 2027,
        "optimization_level": [lvl.name for lvl in sim.chain] == ["medium", "low", "fallback"],
        "max_workers": sim.config.orchestration.max_workers == 3,
        "batch_size": sim.state.batch_size == 77 and sim.config.orchestration.batch_size == 77,
        "enable_state_compression": sim.state.enable_compression is False,
        "fail_fast": sim.config.orchestration.fail_fast is True,
        "performance_monitoring": sim.performance_mode is False,
        "census_path": sim.census == tmp_path / "census.csv",
        "database_path": sim.database == (tmp_path / "x.duckdb").resolve(),
        "random_seed": sim.config.random_seed == 9,
        "max_retries": sim.config.orchestration.max_retries == 5,
        "plugin": sim.chain[0].plugin == "legacy",
    }
    assert set(checks) == {f.name for f in attrs.fields(api.MultiYearConfig)}, "a field without an effect check"
    assert [name for name, ok in checks.items() if not ok] == []
    high = api.MultiYearOrchestrator(api.MultiYearConfig(start_year=2025, end_year=2025, max_workers=6))._simulation()
    assert high.chain[0].settings.threads == 6 and high.config.random_seed == 42  # None keeps the base seed


def test_base_config_supplies_everything_else(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("simulation: {start_year: 2025, end_year: 2029, target_growth_rate: 0.07}\n"
                    "workforce: {total_termination_rate: 0.2}\nrandom_seed: 5\n"
                    "orchestration: {max_workers: 2, max_retries: 1}\n")
    orchestrator = api.create_multi_year_orchestrator(2025, 2026, "LOW", base_config_path=base)
    pc = orchestrator.planwise_config
    assert (pc.simulation.target_growth_rate, pc.workforce.total_termination_rate, pc.random_seed) == (0.07, 0.2, 5)
    assert (pc.simulation.end_year, pc.orchestration.optimization_level) == (2026, "low")
    assert (pc.orchestration.max_workers, pc.orchestration.max_retries) == (4, 1)  # config field wins; None keeps


def test_invalid_settings_are_refused_before_running():
    with pytest.raises(ConfigError, match="orchestration.max_workers"):
        api.create_multi_year_orchestrator(2025, 2025, max_workers=0)
    with pytest.raises(ConfigError, match="simulation.end_year"):
        api.create_multi_year_orchestrator(2026, 2025)
    with pytest.raises(ValueError, match="optimization_level"):
        api.MultiYearConfig(start_year=2025, end_year=2025, optimization_level="turbo")
    with pytest.raises(TypeError):
        api.create_multi_year_orchestrator(2025, 2025, memory_limit_gb=8)


def test_high_performance_orchestrator():
    fast = api.create_high_performance_orchestrator(2025, 2026, max_workers=5)
    assert fast.config.optimization_level is MAX and fast.config.max_workers == 5
    assert fast.planwise_config.orchestration.enable_compression is True
    chain = fast._simulation().chain
    assert [(level.name, level.plugin) for level in chain[:2]] == [("max", "compiled"), ("high", "optimized")]
    assert chain[0].settings.threads == chain[1].settings.threads == 5


# --------------------------------------------------------------------------- error_context


@pytest.mark.parametrize("error, kinds", [
    (duckdb.IOException('IO Error: Cannot open file "x.duckdb"'), ("database",)),
    (duckdb.CatalogException("Table with name t does not exist"), ("database",)),
    (DatabaseBusyError("Database x is in use by another planwise run"), ("database",)),
    (OSError("could not set lock on file"), ("database",)),
    (MemoryError(), ("memory",)),
    (duckdb.OutOfMemoryException("failed to allocate block"), ("memory",)),
    (RuntimeError("worker ran out of memory"), ("memory",)),
    (ModuleNotFoundError("No module named 'dbt'"), ("dependency",)),
    (ImportError("cannot import name x"), ("dependency",)),
    (SimulationError("dbt run 12 nodes failed: boom"), ("dependency",)),
    (RuntimeError("year 2026 depends on 2025"), ("dependency",)),
    (ValueError("plain problem"), ()),
])
def test_error_context_guidance(error, kinds):
    with pytest.raises(api.OperationError) as info:
        with api.error_context("Year processing", "Step 1: look at the log."):
            raise error
    exc = info.value
    assert isinstance(exc, PlanwiseError)
    assert exc.__cause__ is error
    assert exc.operation == "Year processing" and exc.kinds == kinds
    message = str(exc)
    assert message.startswith(f"Year processing failed: {error}")
    assert "Step 1: look at the log." in message
    expected_words = {"database": ("permissions", "disk space", "<database>.lock", "connectivity"),
                      "memory": ("batch_size", "compression", "fewer workers"),
                      "dependency": ("sequential", "make test", "Validate")}
    for kind, words in expected_words.items():
        for word in words:
            assert (word in message) == (kind in kinds), (kind, word)
    assert exc.guidance == tuple(line for kind in kinds for line in api.errors.GUIDANCE[kind])


def test_error_context_combines_kinds_and_passes_through():
    with pytest.raises(api.OperationError) as info:
        with api.error_context("Run"):
            raise SimulationError("dbt run failed: database is locked")
    assert info.value.kinds == ("database", "dependency")

    with pytest.raises(api.OperationError) as info:
        with api.error_context("Outer"):
            with api.error_context("Inner"):
                raise MemoryError()
    inner = info.value
    assert inner.operation == "Inner"  # not wrapped twice

    with pytest.raises(KeyboardInterrupt):
        with api.error_context("Interrupted"):
            raise KeyboardInterrupt

    with api.error_context("Nothing goes wrong"):
        pass


def test_error_context_around_await():
    async def failing():
        with api.error_context("Async step"):
            await asyncio.sleep(0)
            raise MemoryError("out of memory")

    with pytest.raises(api.OperationError, match="Async step failed"):
        asyncio.run(failing())


# --------------------------------------------------------------------------- benchmark logic without legacy


def test_benchmark_mode_times_legacy_in_another_temporary_database(monkeypatch, tmp_path):
    calls = []

    def fake_foundation(config, database, census, plugin=None, pm=None):
        calls.append((config.orchestration.optimization_level, Path(database), plugin))
        seconds = 10.0 if plugin == "legacy" else 2.0
        return api.FoundationSetupResult(success=True, execution_time=seconds, plugin=plugin or "optimized",
                                         steps=[{"name": "seeds", "seconds": seconds}], baseline_rows=10)

    monkeypatch.setattr(api.benchmarks, "timed_foundation", fake_foundation)
    monkeypatch.setattr(api.benchmarks, "plugin_manager", lambda: None)
    result = asyncio.run(api.run_foundation_benchmark("medium", benchmark_mode=True, database_path=tmp_path / "o.db"))
    assert result["performance_improvement"] == pytest.approx(0.8)
    assert result["legacy_execution_time"] == 10.0 and result["target_met"] is True
    (level, database, plugin), (legacy_level, legacy_db, legacy_plugin) = calls
    assert (level, database, plugin) == ("medium", tmp_path / "o.db", None)
    assert (legacy_level, legacy_plugin) == ("fallback", "legacy")
    assert legacy_db != database and not legacy_db.parent.exists()  # temporary folder, removed

    calls.clear()
    result = asyncio.run(api.run_foundation_benchmark(HIGH))
    assert len(calls) == 1 and result["performance_improvement"] is None and result["legacy_execution_time"] is None
    assert not calls[0][1].parent.exists()


def test_comparison_adds_target_met(monkeypatch):
    """Logic only (compare_engines stubbed): the real comparison runs the legacy engine, too slow here."""
    import planwise_core.engine_comparison

    seen = {}

    def fake_compare(config, workdir, census=None, pm=None):
        seen.update(years=(config.simulation.start_year, config.simulation.end_year), workdir=Path(workdir))
        brief = {"completed_years": [2025, 2026], "total_execution_time": 10.0}
        return {"legacy_time": 50.0, "optimized_time": 10.0, "improvement": seen["improvement"],
                "legacy": dict(brief, total_execution_time=50.0), "optimized": brief}

    monkeypatch.setattr(planwise_core.engine_comparison, "compare_engines", fake_compare)
    monkeypatch.setattr(api.benchmarks, "plugin_manager", lambda: None)
    seen["improvement"] = 0.82
    result = asyncio.run(api.run_comprehensive_performance_comparison(2025, 2026, benchmark_mode=True))
    assert result["target_met"] is True and seen["years"] == (2025, 2026)
    assert result["benchmark"]["legacy_seconds_per_year"] == 25.0
    assert result["benchmark"]["optimized_seconds_per_year"] == 5.0
    assert not seen["workdir"].exists()
    seen["improvement"] = 0.5
    result = asyncio.run(api.run_comprehensive_performance_comparison(2025, 2025))
    assert result["target_met"] is False and "benchmark" not in result


# --------------------------------------------------------------------------- real runs


def test_docs_examples_run_as_written(docs_namespace):
    ns = docs_namespace
    assert ns["result"].success and ns["result"].completed_years == [2025]
    assert ns["foundation"].success and ns["bench"]["success"]
    assert ns["run"]["success"] and ns["run"]["completed_years"] == [2025, 2026]
    # The examples really used the written config (seed 7, growth 5%).
    assert ns["orchestrator"].planwise_config.random_seed == 7
    assert ns["result"].raw["summary"][0]["target_growth_rate"] == 0.05
    # The batch example ran both scenarios in its worker process and aggregated them.
    assert [(r["run_id"], r["status"]) for r in ns["batch_runs"]] == [
        ("baseline/seed-42", "completed"), ("high_growth/seed-42", "completed")]
    assert ns["processor"].last_result.database.name == "batch.duckdb"


def test_docs_cover_every_exported_name_and_show_comparison_as_text():
    text = DOCS.read_text()
    headings = set(re.findall(r"^#{2,3} (\w+)", text, re.M))
    assert set(api.__all__) <= headings, set(api.__all__) - headings
    blocks = _python_blocks(text)
    assert blocks and all("run_comprehensive_performance_comparison(" not in b for b in blocks)
    assert "```text\nfrom planwise_core import run_comprehensive_performance_comparison" in text
    for omitted in ("enable_concurrent_processing", "memory_limit_gb"):
        assert omitted in text


def test_summary_and_history_before_any_run():
    orchestrator = api.create_multi_year_orchestrator(2025, 2025, batch_size=123, enable_state_compression=False)
    assert orchestrator.get_simulation_history() == []
    assert orchestrator.get_performance_summary() == {
        "total_simulations": 0, "successful_simulations": 0, "success_rate": 0.0, "average_execution_time": 0.0,
        "total_years_simulated": 0, "optimization_effectiveness": {}}
    assert orchestrator.state_manager.batch_size == 123 and not orchestrator.state_manager.enable_compression
    assert orchestrator.state_manager.get_performance_metrics()["checkpoints"] == 0


def test_performance_summary_and_history_after_two_runs(docs_namespace):
    """Two 1-year runs of the docs' orchestrator (tiny census): the docs example ran the first one."""
    orchestrator = docs_namespace["orchestrator"]
    assert orchestrator.config.start_year == orchestrator.config.end_year == 2025
    assert len(orchestrator.get_simulation_history()) == 1
    asyncio.run(orchestrator.execute_multi_year_simulation())

    history = orchestrator.get_simulation_history()
    first, second = history
    assert first is docs_namespace["result"] and first.simulation_id != second.simulation_id
    for result in history:
        assert result.success and result.completed_years == [2025] and result.failed_years == []
        assert result.success_rate == 1.0 and result.performance_metrics is result.raw["performance_metrics"]
        assert "steps" in result.raw["years"]["2025"]  # performance_monitoring=True
    assert first.raw["summary"] == second.raw["summary"]  # same inputs, same results

    summary = orchestrator.get_performance_summary()
    assert summary["total_simulations"] == 2 and summary["successful_simulations"] == 2
    assert summary["success_rate"] == 1.0 and summary["total_years_simulated"] == 2
    assert summary["average_execution_time"] == pytest.approx(
        (first.total_execution_time + second.total_execution_time) / 2, abs=0.002)
    high = summary["optimization_effectiveness"]["high"]
    rows = sum(r.raw["years"]["2025"]["rows"] for r in history)
    assert high["years"] == 2 and high["rows"] == rows > 0
    assert high["records_per_second"] == pytest.approx(rows / high["seconds"], rel=0.01)

    state = orchestrator.state_manager.get_performance_metrics()
    assert state == second.raw["state_metrics"]
    assert state["checkpoints"] == 1 and state["compression_enabled"] and state["compression_savings_bytes"] > 0

    history.clear()
    assert len(orchestrator.get_simulation_history()) == 2  # a copy


def test_foundation_benchmark_without_legacy(docs_namespace):
    """run_foundation_benchmark(benchmark_mode=False) on the tiny census, as the docs example called it."""
    result = docs_namespace["bench"]
    assert result["success"] and result["error"] is None and result["benchmark_mode"] is False
    assert result["performance_improvement"] is None and result["legacy_execution_time"] is None
    assert result["legacy_error"] is None and result["optimization_level"] == "high"
    assert result["target_met"] == (result["execution_time"] < 10)
    assert [s["name"] for s in result["steps"]] == ["staging", "baseline", "validation"]
    assert result["execution_time"] == pytest.approx(sum(s["seconds"] for s in result["steps"]), abs=0.5)
    assert result["plugin"] == "optimized" and result["baseline_rows"] > 0


def test_foundation_failure_is_reported(workdir):
    result = asyncio.run(api.run_foundation_benchmark("high", census_path="output/does_not_exist.csv"))
    assert result["success"] is False and result["target_met"] is False
    assert "does_not_exist.csv" in result["error"] and result["performance_improvement"] is None

    orchestrator = api.create_multi_year_orchestrator(2025, 2025, census_path="output/does_not_exist.csv",
                                                      database_path="output/api_failing.duckdb")
    with pytest.raises(CensusError):
        asyncio.run(orchestrator.execute_multi_year_simulation())
    assert orchestrator.get_simulation_history() == []
