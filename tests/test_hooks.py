"""The hook contract: every spec with dummy arguments, the ordered call log of a real run,
retry and fallback around a failing plugin, unknown and misspelled plugins, and the docs."""

from __future__ import annotations

import logging
import os
import re
import sys
import types
from pathlib import Path

import duckdb
import pluggy
import pytest

from planwise_core import PROJECT, hookimpl, hookspecs
from planwise_core.census import generate_census
from helpers.cli import copy_dist
from planwise_core.config import PlanwiseConfig
from planwise_core.context import EngineSettings
from planwise_core.engines import EngineSpec
from planwise_core.engine.nodes import year_partitioned_models
from planwise_core.engine.project import DbtProject
from planwise_core.errors import PluginError, SimulationError
from planwise_core.orchestrator import Simulation
from planwise_core.hooks import Hooks
from planwise_core.manager import enable_tracing, engine_names, get_plugin_manager
from planwise_core.results import FoundationResult, PluginMetrics, TransitionResult, YearResult

ROOT = Path(__file__).resolve().parent.parent

SPECS = {name: fn for name, fn in vars(hookspecs).items() if hasattr(fn, f"{PROJECT}_spec")}
FIRSTRESULT = {"foundation_setup", "process_year", "transition_year"}
COLLECTED = {"collect_metrics", "planwise_engines"}
CTX = object()  # the hooks under test never look inside the context
DUMMY_ARGS = {"ctx": CTX, "year": 2025, "from_year": 2025, "to_year": 2026}
CANNED = {
    "foundation_setup": FoundationResult("rec", (), 0.0, 3),
    "process_year": YearResult(2025, "rec", (), 0.0, 7),
    "transition_year": TransitionResult(2025, 2026, 3),
    "collect_metrics": PluginMetrics("rec", {"calls": 1}),
}
CALLED = sorted(set(SPECS) - {"planwise_engines"})  # planwise_engines: tested on its own (it takes no ctx)
UNKNOWN_PLUGIN = "Unknown plugin 'nope'. Choose one of: compiled, legacy, optimized"


class Canned:
    """Returns a canned result from every hook and records the arguments it was called with."""

    def __init__(self, name: str = "rec", engine: bool = False, results: dict | None = None):
        self.name = name
        self.engine = engine
        self.results = CANNED if results is None else results
        self.calls: list[tuple[str, dict]] = []

    def _answer(self, hook: str, **kwargs):
        self.calls.append((hook, kwargs))
        return self.results.get(hook)

    @hookimpl
    def planwise_engines(self):
        return [EngineSpec(self.name, self)] if self.engine else None

    @hookimpl
    def foundation_setup(self, ctx):
        return self._answer("foundation_setup", ctx=ctx)

    @hookimpl
    def process_year(self, ctx, year):
        return self._answer("process_year", ctx=ctx, year=year)

    @hookimpl
    def transition_year(self, ctx, from_year, to_year):
        return self._answer("transition_year", ctx=ctx, from_year=from_year, to_year=to_year)

    @hookimpl
    def collect_metrics(self, ctx):
        return self._answer("collect_metrics", ctx=ctx)


def bare_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def dummy_kwargs(pm: pluggy.PluginManager, hook: str) -> dict:
    argnames = getattr(pm.hook, hook).spec.argnames
    unknown = set(argnames) - set(DUMMY_ARGS)
    assert not unknown, f"hookspec {hook} has new arguments {unknown}: add dummy values to DUMMY_ARGS"
    return {name: DUMMY_ARGS[name] for name in argnames}


def returning(hook: str, value, log: list, label: str, **opts):
    """A one-hook plugin that logs its label and returns ``value`` (a zero-argument hookimpl)."""

    def impl():
        log.append(label)
        return value

    return types.SimpleNamespace(**{hook: hookimpl(**opts)(impl)})


# --------------------------------------------------------------------------- 1. every spec, dummy arguments


def test_hookspecs_are_the_five_documented_hooks_with_their_firstresult_flags():
    assert set(SPECS) == FIRSTRESULT | COLLECTED
    for name, fn in SPECS.items():
        assert fn.planwise_spec["firstresult"] is (name in FIRSTRESULT), name
        assert fn.__doc__ and "Called" in fn.__doc__, f"{name}: the docstring must say when it is called"


@pytest.mark.parametrize("hook", CALLED)
def test_every_hook_returns_what_the_plugin_returns(hook):
    pm = bare_manager()
    plugin = Canned()
    pm.register(plugin, name="rec")
    kwargs = dummy_kwargs(pm, hook)

    result = getattr(pm.hook, hook)(**kwargs)

    assert result == (CANNED[hook] if hook in FIRSTRESULT else [CANNED[hook]])
    assert plugin.calls == [(hook, kwargs)]


def test_planwise_engines_collects_every_plugins_specs():
    pm = bare_manager()
    engine = Canned("eng", engine=True)
    pm.register(engine, name="eng")
    pm.register(Canned("observer"), name="observer")

    assert pm.hook.planwise_engines() == [[EngineSpec("eng", engine)]]  # the observer's None is dropped


@pytest.mark.parametrize("hook", CALLED)
def test_facade_returns_the_engine_result_on_a_manager_without_builtins(hook):
    pm = get_plugin_manager(blocked=("compiled", "optimized", "legacy"), load_entrypoints=False)
    assert pm.get_plugins() == set() and engine_names(pm) == []
    pm.register(Canned(engine=True), name="rec")

    result = getattr(Hooks(pm, "rec"), hook)(CTX, *[v for k, v in dummy_kwargs(pm, hook).items() if k != "ctx"])

    assert result == (CANNED[hook] if hook in FIRSTRESULT else [CANNED[hook]])


@pytest.mark.parametrize("hook", sorted(FIRSTRESULT))
def test_firstresult_hooks_stop_at_the_first_non_none_result(hook):
    pm, log = bare_manager(), []
    pm.register(returning(hook, None, log, "tryfirst", tryfirst=True), name="observer")
    pm.register(returning(hook, "middle", log, "middle"), name="winner")
    pm.register(returning(hook, "last", log, "trylast", trylast=True), name="never")

    assert getattr(pm.hook, hook)(**dummy_kwargs(pm, hook)) == "middle"
    assert log == ["tryfirst", "middle"]


def test_collect_metrics_collects_every_non_none_result_in_call_order():
    pm, log = bare_manager(), []
    pm.register(returning("collect_metrics", None, log, "tryfirst", tryfirst=True), name="silent")
    pm.register(returning("collect_metrics", PluginMetrics("a"), log, "middle"), name="a")
    pm.register(returning("collect_metrics", PluginMetrics("b"), log, "trylast", trylast=True), name="b")

    assert pm.hook.collect_metrics(ctx=CTX) == [PluginMetrics("a"), PluginMetrics("b")]
    assert log == ["tryfirst", "middle", "trylast"]


def test_engine_hooks_reach_only_the_selected_engine_and_the_observers():
    pm = bare_manager()
    chosen = Canned("chosen", engine=True)
    other = Canned("other", engine=True, results={**CANNED, "process_year": YearResult(2025, "other", (), 0.0)})
    observer = Canned("observer", results={})
    for plugin in (chosen, other, observer):  # "other" registered after "chosen": pluggy would call it first
        pm.register(plugin, name=plugin.name)
    hooks = Hooks(pm, "chosen")

    assert hooks.process_year(CTX, 2025) == CANNED["process_year"]
    assert [c[0] for c in chosen.calls] == ["process_year"]
    assert [c[0] for c in observer.calls] == ["process_year"]
    assert other.calls == []
    assert hooks.collect_metrics(CTX) == [CANNED["collect_metrics"]] * 2  # every plugin reports; None dropped


def test_an_engine_returning_none_is_a_simulation_error_naming_it():
    pm = bare_manager()
    pm.register(Canned("lazy", engine=True, results={}), name="lazy")
    with pytest.raises(SimulationError, match=r"Engine plugin 'lazy' returned no result from process_year"):
        Hooks(pm, "lazy").process_year(CTX, 2025)


def test_block_env_var_removes_a_builtin_engine(monkeypatch):
    monkeypatch.setenv("PLANWISE_BLOCK_PLUGINS", "legacy,somebody-else")
    pm = get_plugin_manager(load_entrypoints=False)
    assert engine_names(pm) == ["compiled", "optimized"]
    blocked = r"^Plugin 'legacy' is blocked \(PLANWISE_BLOCK_PLUGINS\). Choose one of: compiled, optimized$"
    with pytest.raises(PluginError, match=blocked):
        Hooks(pm, "legacy")


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def census_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("census")
    generate_census(500, 42, folder / "census_500.parquet")
    generate_census(300, 7, folder / "census_300.parquet")
    return folder


def config(end_year: int = 2025, **orchestration) -> PlanwiseConfig:
    overrides = {"simulation.end_year": end_year, "orchestration.retry_backoff_seconds": 0}
    overrides.update({f"orchestration.{k}": v for k, v in orchestration.items()})
    return PlanwiseConfig().with_overrides(**overrides)


def simulate(tmp_path, census: Path, cfg: PlanwiseConfig, *plugins, pm=None) -> tuple[dict, Path]:
    pm = pm or get_plugin_manager(load_entrypoints=False)
    for plugin in plugins:
        pm.register(plugin, name=type(plugin).__name__.lower())
    database = tmp_path / "sim.duckdb"
    return Simulation(cfg, database, census=census, pm=pm).run(), database


def rows_per_year(database: Path, year: int) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = year_partitioned_models(DbtProject(database))
        assert {"int_workforce_requirements", "fct_yearly_events", "fct_workforce_snapshot"} <= set(tables)
        return {t: con.execute(f"select count(*) from {t} where simulation_year = ?", [year]).fetchone()[0]
                for t in tables}


class Recorder:
    """An observer: logs (hook, years) and returns None so the engine's result wins.

    Its hookimpls take fewer arguments than the specs, which pluggy allows.
    """

    def __init__(self):
        self.log: list[tuple] = []

    @hookimpl
    def foundation_setup(self):
        self.log.append(("foundation_setup",))

    @hookimpl
    def process_year(self, year):
        self.log.append(("process_year", year))

    @hookimpl
    def transition_year(self, from_year, to_year):
        self.log.append(("transition_year", from_year, to_year))

    @hookimpl
    def collect_metrics(self):
        self.log.append(("collect_metrics",))


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.mark.slow
def test_two_year_run_calls_the_hooks_in_order(tmp_path, census_dir):
    pm = get_plugin_manager(load_entrypoints=False)
    trace, handler = logging.getLogger("tests.planwise.trace"), ListHandler()
    trace.addHandler(handler)
    trace.setLevel(logging.INFO)
    enable_tracing(pm, trace)
    recorder = Recorder()

    try:
        result, _ = simulate(tmp_path, census_dir / "census_500.parquet", config(2026), recorder, pm=pm)
    finally:
        trace.removeHandler(handler)

    assert result["success"] and result["completed_years"] == [2025, 2026]
    assert recorder.log == [
        ("foundation_setup",),
        ("process_year", 2025),
        ("transition_year", 2025, 2026),
        ("process_year", 2026),
        ("collect_metrics",),
    ]
    # The zero-argument collect_metrics returned None: only the engine (the default level's: compiled) reports
    # metrics.
    assert list(result["plugin_metrics"]) == ["compiled"]
    assert {d["plugin"] for d in result["years"].values()} == {"compiled"}
    # Tracing logs every call with the plugins it reaches: the other engine is never one of them.
    calls = [m for m in handler.messages if "->" in m]
    assert [m.split()[1] for m in calls] == ["foundation_setup", "process_year", "transition_year",
                                             "process_year", "collect_metrics"]
    for message in calls[:-1]:
        reached = set(message.split("-> ")[1].split(", "))
        assert reached == {"compiled", "recorder"}, message
    assert set(calls[-1].split("-> ")[1].split(", ")) == {"compiled", "optimized", "legacy", "recorder"}
    assert len([m for m in handler.messages if " done in " in m]) == 5


class FlakyYear:
    """Raises from process_year the first ``failures`` times, before the engine runs."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    @hookimpl(tryfirst=True)
    def process_year(self, year):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"transient failure {self.calls} in {year}")


@pytest.mark.slow
def test_a_failing_year_is_retried_until_it_succeeds(tmp_path, census_dir):
    flaky = FlakyYear(failures=2)
    result, database = simulate(tmp_path, census_dir / "census_300.parquet", config(max_retries=2), flaky)

    assert result["success"] and result["completed_years"] == [2025]
    assert result["years"]["2025"]["attempts"] == 3
    assert result["years"]["2025"]["optimization_level"] == "max"  # the default level, retried on itself
    assert flaky.calls == 3
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select attempts from planwise_year_log").fetchall() == [(3,)]


class FailsWhenBatched:
    """Fails a year *after* the engine wrote it, at every level that runs dbt in one batch."""

    def __init__(self, fail_always: bool = False):
        self.fail_always = fail_always
        self.seen: list[tuple[EngineSettings, dict, str | None]] = []

    @hookimpl(wrapper=True)
    def process_year(self, ctx, year):
        result = yield
        # PLANWISE_THREADS is what the engine last handed to dbt's profile.
        self.seen.append((ctx.settings, rows_per_year(ctx.database, year), os.environ.get("PLANWISE_THREADS")))
        if self.fail_always or not ctx.settings.per_model:
            raise RuntimeError(f"refusing {year} at {ctx.settings}")
        return result


@pytest.fixture(scope="module")
def fallback_run(tmp_path_factory, census_dir):
    plugin = FailsWhenBatched()
    # From the optimized engine's first level: the chain below it is what this module checks (the compiled rung
    # above it falls back to it: tests/test_compiled_engine.py).
    cfg = config(max_retries=0, max_workers=3, optimization_level="high")
    result, database = simulate(tmp_path_factory.mktemp("fallback"), census_dir / "census_300.parquet", cfg, plugin)
    return result, database, plugin


@pytest.mark.slow
def test_failures_fall_back_level_by_level_and_leave_one_set_of_rows(fallback_run):
    result, database, plugin = fallback_run

    assert result["success"] and result["completed_years"] == [2025]
    year = result["years"]["2025"]
    assert (year["plugin"], year["optimization_level"], year["attempts"]) == ("optimized", "low", 1)
    assert [s for s, _, _ in plugin.seen] == [EngineSettings(3, False), EngineSettings(1, False),
                                               EngineSettings(1, True)]
    # Every attempt wrote the year; only the successful one is left, exactly once.
    written = [rows for _, rows, _ in plugin.seen]
    assert all(rows == written[-1] and rows["fct_workforce_snapshot"] > 0 for rows in written)
    assert rows_per_year(database, 2025) == written[-1]
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*), count(distinct employee_id) from fct_workforce_snapshot "
                           "where simulation_year = 2025").fetchone() == (written[-1]["fct_workforce_snapshot"],) * 2
        assert con.execute("select simulation_year, plugin, optimization_level from planwise_year_log").fetchall() \
            == [(2025, "optimized", "low")]


@pytest.mark.slow
def test_each_fallback_level_runs_dbt_with_its_own_thread_count(fallback_run):
    _, _, plugin = fallback_run
    assert [(s.threads, threads) for s, _, threads in plugin.seen] == [(3, "3"), (1, "1"), (1, "1")]


@pytest.mark.slow
def test_fail_fast_stops_at_the_first_failed_year_without_retry_or_fallback(tmp_path, census_dir):
    plugin = FailsWhenBatched(fail_always=True)
    cfg = config(2026, max_retries=2, fail_fast=True)
    result, database = simulate(tmp_path, census_dir / "census_300.parquet", cfg, plugin)

    assert result["success"] is False
    assert result["completed_years"] == [] and result["failed_years"] == [2025, 2026]
    assert result["error"].startswith("2025: refusing 2025")
    assert len(plugin.seen) == 1 and plugin.seen[0][1]["fct_workforce_snapshot"] > 0
    # The failed year's rows were rolled back in the build; the database never received any.
    from planwise_core.database.workspace import Workspace

    assert set(rows_per_year(Workspace(database).build, 2025).values()) == {0}
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select status from planwise_run_log").fetchall() == [("failed",)]
        assert con.execute("select count(*) from planwise_year_log").fetchone() == (0,)


# --------------------------------------------------------------------------- unknown and invalid plugins


def test_unknown_engine_name_lists_the_known_ones(tmp_path):
    pm = get_plugin_manager(load_entrypoints=False)
    with pytest.raises(PluginError) as facade:
        Hooks(pm, "nope")
    with pytest.raises(PluginError) as simulation:
        Simulation(PlanwiseConfig(), tmp_path / "x.duckdb", plugin="nope", pm=pm)
    assert str(facade.value) == str(simulation.value) == UNKNOWN_PLUGIN
    assert not (tmp_path / "x.duckdb").exists()


def test_an_observer_is_not_an_engine():
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Recorder(), name="recorder")
    with pytest.raises(PluginError, match=r"Unknown plugin 'recorder'. Choose one of: compiled, legacy, optimized$"):
        Hooks(pm, "recorder")


@pytest.fixture
def install_dist(tmp_path, monkeypatch):
    """Put a fixture distribution from tests/plugins/ on sys.path, as if pip-installed."""

    def install(name: str) -> Path:
        site = copy_dist(name, tmp_path)
        monkeypatch.syspath_prepend(str(site))  # also invalidates the import caches
        return site

    yield install
    for module in ("probe_module", "probe_broken", "typo_module"):
        sys.modules.pop(module, None)


def test_a_misspelled_hookimpl_name_is_a_start_up_error_naming_the_plugin(install_dist):
    install_dist("typo")
    with pytest.raises(PluginError) as error:
        get_plugin_manager()
    message = str(error.value)
    assert message.startswith("Plugin 'typo'") and "proces_year" in message
    assert "Fix the hookimpl's name or arguments" in message


def test_a_misspelled_hookimpl_argument_is_a_start_up_error_naming_plugin_and_distribution(install_dist):
    install_dist("badargs")
    with pytest.raises(PluginError) as error:
        get_plugin_manager()
    message = str(error.value)
    assert message.startswith("Plugin 'badargs' (distribution badargs-dist) is invalid")
    assert "yeer" in message


def test_check_pending_reports_the_misspelled_hook_and_its_plugin():
    pm = bare_manager()
    plugin = types.SimpleNamespace(proces_year=hookimpl(lambda ctx, year: None))
    pm.register(plugin, name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'proces_year'") as error:
        pm.check_pending()
    assert pm.get_name(error.value.plugin) == "typo"


# --------------------------------------------------------------------------- docs


def test_docs_have_one_heading_per_hook():
    text = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## `?(\w+)`?\s*$", text, flags=re.MULTILINE)
    missing = sorted(set(SPECS) - set(headings))
    assert not missing, f"docs/hooks.md lacks a '## <hook>' section for {missing}"
    assert [h for h in headings if h in SPECS] == [h for h in dict.fromkeys(headings) if h in SPECS], "duplicates"
