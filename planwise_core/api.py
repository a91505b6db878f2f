"""Programmatic (async) API in the shape of the seed ``orchestrator_dbt`` API, over the real PlanWise run.

Every name here drives :class:`planwise_core.orchestrator.Simulation`; nothing is simulated or estimated.
The blocking runs execute in a worker thread (``asyncio.to_thread``), one at a time per process: the
in-process dbt runner uses process-wide state (environment variables, dbt's adapter connections), so
runs started concurrently from one event loop are queued behind a lock rather than interleaved.

Reference with runnable examples: docs/api.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import attrs

from .compat import test_configuration_compatibility
from .config import DEFAULT_CONFIG_PATH, PlanwiseConfig, load_and_validate_config, load_config, validate_configuration
from .errors import DatabaseBusyError, PlanwiseError
from .monitor import PerformanceMonitor

__all__ = [
    "OptimizationLevel", "MultiYearConfig", "MultiYearResult", "FoundationSetupResult", "MultiYearOrchestrator",
    "create_multi_year_orchestrator", "create_high_performance_orchestrator",
    "run_foundation_benchmark", "run_enhanced_multi_year_simulation", "run_comprehensive_performance_comparison",
    "error_context", "OperationError", "BatchSimulationProcessor",
    "load_and_validate_config", "validate_configuration", "test_configuration_compatibility", "PerformanceMonitor",
]

FOUNDATION_TARGET_SECONDS = 10.0
IMPROVEMENT_TARGET = 0.82
DEFAULT_DATABASE = "output/planwise.duckdb"

# One engine run at a time per process (see the module docstring).
_ENGINE_LOCK = threading.Lock()


class OptimizationLevel(enum.Enum):
    """Starting rung of the fallback chain HIGH -> MEDIUM -> LOW -> FALLBACK.

    HIGH: optimized engine, dbt with ``max_workers`` threads. MEDIUM: optimized, one thread.
    LOW: optimized, one dbt invocation per model. FALLBACK: the legacy engine (one dbt process per model).
    A year that fails at one level is retried at the next one (unless ``fail_fast``).
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    FALLBACK = "fallback"


def _level(value: OptimizationLevel | str) -> OptimizationLevel:
    if isinstance(value, OptimizationLevel):
        return value
    if isinstance(value, str):
        try:
            return OptimizationLevel(value.lower())
        except ValueError:
            pass
    choices = ", ".join(level.value for level in OptimizationLevel)
    raise ValueError(f"optimization_level must be an OptimizationLevel or one of {choices} (got {value!r})")


@attrs.frozen(kw_only=True)
class MultiYearConfig:
    """What to run and how. Each field overrides one key of the base run configuration or one run argument.

    ``start_year``/``end_year`` -> simulation.start_year/end_year; ``optimization_level``, ``max_workers``,
    ``batch_size``, ``enable_state_compression``, ``fail_fast``, ``max_retries`` -> orchestration.*;
    ``random_seed`` -> random_seed (None keeps the base config's); ``performance_monitoring`` -> per-step
    detail in the result; ``census_path`` -> census file (None: built-in 10,000-employee census);
    ``database_path`` -> DuckDB file; ``plugin`` -> engine for the first rung (None: the level's engine).
    """

    start_year: int
    end_year: int
    optimization_level: OptimizationLevel = attrs.field(default=OptimizationLevel.HIGH, converter=_level)
    max_workers: int = 4
    batch_size: int = 1000
    enable_state_compression: bool = True
    fail_fast: bool = False
    performance_monitoring: bool = True
    census_path: str | Path | None = None
    database_path: str | Path = DEFAULT_DATABASE
    random_seed: int | None = None
    max_retries: int | None = None
    plugin: str | None = None

    def overrides(self) -> dict[str, Any]:
        """The dotted-path overrides applied to the base PlanwiseConfig."""
        values = {
            "simulation.start_year": self.start_year,
            "simulation.end_year": self.end_year,
            "orchestration.optimization_level": self.optimization_level.value,
            "orchestration.max_workers": self.max_workers,
            "orchestration.batch_size": self.batch_size,
            "orchestration.enable_compression": self.enable_state_compression,
            "orchestration.fail_fast": self.fail_fast,
        }
        if self.random_seed is not None:
            values["random_seed"] = self.random_seed
        if self.max_retries is not None:
            values["orchestration.max_retries"] = self.max_retries
        return values


@attrs.frozen(kw_only=True)
class MultiYearResult:
    """One finished run. ``raw`` is the complete Simulation result dict (years, summary, metrics, error ...)."""

    simulation_id: str
    success: bool
    total_execution_time: float
    completed_years: list[int]
    failed_years: list[int]
    success_rate: float
    performance_metrics: dict[str, Any]
    raw: dict[str, Any] = attrs.field(repr=False)

    @classmethod
    def from_run(cls, raw: dict[str, Any]) -> MultiYearResult:
        """Build from a ``Simulation.run()`` result dict."""
        return cls(simulation_id=raw["simulation_id"], success=raw["success"],
                   total_execution_time=raw["total_execution_time"], completed_years=list(raw["completed_years"]),
                   failed_years=list(raw["failed_years"]), success_rate=raw["success_rate"],
                   performance_metrics=raw["performance_metrics"], raw=raw)


@attrs.frozen(kw_only=True)
class FoundationSetupResult:
    """Outcome of a foundation setup (census load excluded): seeds, staging, baseline and their dbt tests."""

    success: bool
    execution_time: float
    plugin: str | None = None
    steps: list[dict[str, Any]] = attrs.field(factory=list)
    baseline_rows: int = 0
    error: str | None = None

    @property
    def target_met(self) -> bool:
        """True when the setup succeeded in under 10 seconds."""
        return self.success and self.execution_time < FOUNDATION_TARGET_SECONDS


# --- blocking helpers (run in a worker thread) --------------------------------------------------


def _base_config(path: str | Path | None) -> PlanwiseConfig:
    if path is not None:
        return load_config(path)
    return load_config(DEFAULT_CONFIG_PATH) if DEFAULT_CONFIG_PATH.exists() else PlanwiseConfig()


def _plugin_manager():
    from .plugins import get_plugin_manager

    return get_plugin_manager()


def _foundation(config: PlanwiseConfig, database: Path, census, plugin: str | None = None,
                pm=None) -> FoundationSetupResult:
    """Load the census and run the foundation hooks into ``database``; domain errors become success=False."""
    from .orchestrator import Simulation

    with _ENGINE_LOCK:
        started = time.perf_counter()
        try:
            result = Simulation(config, database, census=census, plugin=plugin, pm=pm or _plugin_manager()
                                ).foundation_only()
        except PlanwiseError as exc:
            return FoundationSetupResult(success=False, execution_time=round(time.perf_counter() - started, 3),
                                         error=str(exc))
    return FoundationSetupResult(success=True, execution_time=round(result.seconds, 3), plugin=result.plugin,
                                 steps=[attrs.asdict(s) for s in result.steps], baseline_rows=result.baseline_rows)


class MultiYearOrchestrator:
    """Runs multi-year simulations for one MultiYearConfig and keeps the history of its runs.

    ``planwise_config`` is the validated run configuration (base config plus the MultiYearConfig overrides);
    an invalid combination raises ConfigError here, before anything runs. ``state_manager`` is the year
    checkpoint manager of the last run (before the first run: a fresh one for the configured database).
    """

    def __init__(self, config: MultiYearConfig, base_config_path: Path | None = None):
        from .state import StateManager

        self.config = config
        self.base_config_path = base_config_path
        self.planwise_config = _base_config(base_config_path).with_overrides(**config.overrides())
        self.database = Path(config.database_path)
        self.state_manager = StateManager.for_database(
            self.database.resolve(), enable_compression=config.enable_state_compression, batch_size=config.batch_size)
        self._history: list[MultiYearResult] = []
        self._pm = None

    def _simulation(self):
        from .orchestrator import Simulation

        if self._pm is None:
            self._pm = _plugin_manager()
        return Simulation(self.planwise_config, self.database, census=self.config.census_path,
                          plugin=self.config.plugin, pm=self._pm,
                          performance_mode=self.config.performance_monitoring)

    def _run_blocking(self) -> MultiYearResult:
        with _ENGINE_LOCK:
            simulation = self._simulation()
            raw = simulation.run()
        self.state_manager = simulation.state
        result = MultiYearResult.from_run(raw)
        self._history.append(result)
        return result

    async def execute_multi_year_simulation(self) -> MultiYearResult:
        """Run every year (census, foundation, years) in a worker thread and record the result.

        Year failures are contained (``success`` False, ``failed_years``, ``raw['error']``); a bad census,
        a failed foundation or a database held by another run raise their PlanwiseError.
        """
        return await asyncio.to_thread(self._run_blocking)

    def _foundation_blocking(self) -> FoundationSetupResult:
        if self._pm is None:
            self._pm = _plugin_manager()
        return _foundation(self.planwise_config, self.database, self.config.census_path, self.config.plugin,
                           self._pm)

    async def _execute_foundation_setup(self) -> FoundationSetupResult:
        """Load the census and build the foundation (seeds, staging, baseline, tests) into the database only."""
        return await asyncio.to_thread(self._foundation_blocking)

    def get_performance_summary(self) -> dict[str, Any]:
        """Totals over this orchestrator's runs.

        Keys: total_simulations, successful_simulations, success_rate (successful / total),
        average_execution_time, total_years_simulated (completed years), optimization_effectiveness
        ({level: {years, rows, seconds, records_per_second}} over the years each level actually ran).
        """
        runs = self._history
        levels: dict[str, dict[str, Any]] = {}
        for run in runs:
            for detail in run.raw.get("years", {}).values():
                entry = levels.setdefault(detail["optimization_level"], {"years": 0, "rows": 0, "seconds": 0.0})
                entry["years"] += 1
                entry["rows"] += detail["rows"]
                entry["seconds"] += detail["seconds"]
        for entry in levels.values():
            entry["seconds"] = round(entry["seconds"], 3)
            entry["records_per_second"] = round(entry["rows"] / entry["seconds"], 1) if entry["seconds"] else 0.0
        successful = sum(run.success for run in runs)
        return {
            "total_simulations": len(runs),
            "successful_simulations": successful,
            "success_rate": round(successful / len(runs), 4) if runs else 0.0,
            "average_execution_time": round(sum(r.total_execution_time for r in runs) / len(runs), 3) if runs else 0.0,
            "total_years_simulated": sum(len(r.completed_years) for r in runs),
            "optimization_effectiveness": levels,
        }

    def get_simulation_history(self) -> list[MultiYearResult]:
        """The results of this orchestrator's finished runs, oldest first (a copy)."""
        return list(self._history)


def create_multi_year_orchestrator(start_year: int, end_year: int,
                                   optimization_level: OptimizationLevel = OptimizationLevel.HIGH,
                                   base_config_path: Path | None = None, **kwargs) -> MultiYearOrchestrator:
    """An orchestrator for ``start_year``..``end_year``; ``kwargs`` are further MultiYearConfig fields."""
    config = MultiYearConfig(start_year=start_year, end_year=end_year, optimization_level=optimization_level, **kwargs)
    return MultiYearOrchestrator(config, base_config_path)


def create_high_performance_orchestrator(start_year: int, end_year: int, max_workers: int = 8,
                                         base_config_path: Path | None = None) -> MultiYearOrchestrator:
    """An orchestrator at OptimizationLevel.HIGH with ``max_workers`` dbt threads and compressed checkpoints.

    It writes to the default database (output/planwise.duckdb) with the built-in census; use
    create_multi_year_orchestrator for other paths.
    """
    return create_multi_year_orchestrator(start_year, end_year, OptimizationLevel.HIGH, base_config_path,
                                          max_workers=max_workers, enable_state_compression=True)


# --- seed module-level functions -----------------------------------------------------------------


@contextlib.contextmanager
def _database_folder(database_path: str | Path | None, prefix: str) -> Iterator[Path]:
    """``database_path`` as given, or a database in a temporary folder removed afterwards."""
    if database_path is not None:
        yield Path(database_path)
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield Path(folder) / "foundation.duckdb"


def _benchmark_blocking(level: OptimizationLevel, config_path, benchmark_mode: bool, census_path,
                        database_path) -> dict[str, Any]:
    base = _base_config(config_path)
    pm = _plugin_manager()
    config = base.with_overrides(**{"orchestration.optimization_level": level.value})
    with _database_folder(database_path, "planwise_bench_") as database:
        optimized = _foundation(config, database, census_path, pm=pm)
    legacy = None
    if benchmark_mode and optimized.success:
        legacy_config = base.with_overrides(**{"orchestration.optimization_level": "fallback"})
        with _database_folder(None, "planwise_bench_legacy_") as database:
            legacy = _foundation(legacy_config, database, census_path, plugin="legacy", pm=pm)
    improvement = None
    if legacy is not None and legacy.success and legacy.execution_time:
        improvement = round(1 - optimized.execution_time / legacy.execution_time, 4)
    return {
        "success": optimized.success,
        "execution_time": optimized.execution_time,
        "target_met": optimized.target_met,
        "performance_improvement": improvement,
        "legacy_execution_time": legacy.execution_time if legacy is not None and legacy.success else None,
        "legacy_error": legacy.error if legacy is not None else None,
        "optimization_level": level.value,
        "plugin": optimized.plugin,
        "steps": optimized.steps,
        "baseline_rows": optimized.baseline_rows,
        "benchmark_mode": benchmark_mode,
        "error": optimized.error,
    }


async def run_foundation_benchmark(optimization_level: OptimizationLevel, config_path: str | None = None,
                                   benchmark_mode: bool = False, *, census_path: str | Path | None = None,
                                   database_path: str | Path | None = None) -> dict[str, Any]:
    """Time the foundation setup at ``optimization_level``; with ``benchmark_mode`` also time the legacy one.

    Keys: success, execution_time (s, census load excluded), target_met (success and < 10 s),
    performance_improvement (1 - t / t_legacy; None unless benchmark_mode), legacy_execution_time,
    legacy_error, optimization_level, plugin, steps, baseline_rows, benchmark_mode, error.
    ``database_path`` None: a temporary database, deleted afterwards (the legacy run always uses one).
    """
    level = _level(optimization_level)
    return await asyncio.to_thread(_benchmark_blocking, level, config_path, benchmark_mode, census_path,
                                   database_path)


async def run_enhanced_multi_year_simulation(start_year: int, end_year: int, optimization_level: OptimizationLevel,
                                             max_workers: int, batch_size: int, enable_compression: bool,
                                             fail_fast: bool, performance_mode: bool = False,
                                             config_path: str | None = None, *,
                                             database_path: str | Path = DEFAULT_DATABASE,
                                             census_path: str | Path | None = None) -> dict[str, Any]:
    """Run ``start_year``..``end_year`` and return the full Simulation result dict.

    Keys: simulation_id, success, database, completed_years, failed_years, success_rate, total_execution_time,
    years, resumed_years, error, performance_metrics, plugin_metrics, state_metrics, summary.
    """
    config = MultiYearConfig(start_year=start_year, end_year=end_year, optimization_level=optimization_level,
                             max_workers=max_workers, batch_size=batch_size,
                             enable_state_compression=enable_compression, fail_fast=fail_fast,
                             performance_monitoring=performance_mode, census_path=census_path,
                             database_path=database_path)
    orchestrator = MultiYearOrchestrator(config, Path(config_path) if config_path else None)
    result = await orchestrator.execute_multi_year_simulation()
    return result.raw


def _comparison_blocking(start_year, end_year, config_path, benchmark_mode, census_path, workdir) -> dict[str, Any]:
    from .compare import compare_engines
    from .monitor import peak_rss_mb

    config = _base_config(config_path).with_overrides(
        **{"simulation.start_year": start_year, "simulation.end_year": end_year})
    pm = _plugin_manager()
    with _ENGINE_LOCK, contextlib.ExitStack() as stack:
        folder = Path(workdir) if workdir is not None else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="planwise_compare_")))
        folder.mkdir(parents=True, exist_ok=True)
        result = compare_engines(config, folder, census=census_path, pm=pm)
    result["target_met"] = result["improvement"] >= IMPROVEMENT_TARGET
    if benchmark_mode:
        def per_year(run: dict) -> float | None:
            years = len(run["completed_years"])
            return round(run["total_execution_time"] / years, 3) if years else None

        result["benchmark"] = {"legacy_seconds_per_year": per_year(result["legacy"]),
                               "optimized_seconds_per_year": per_year(result["optimized"]),
                               "peak_memory_mb": round(peak_rss_mb(), 1)}
    return result


async def run_comprehensive_performance_comparison(start_year: int, end_year: int, config_path: str | None = None,
                                                   benchmark_mode: bool = False, *,
                                                   census_path: str | Path | None = None,
                                                   workdir: str | Path | None = None) -> dict[str, Any]:
    """Run the legacy and the optimized engine on the same inputs and compare times and every output table.

    The compare_engines result (legacy_time, optimized_time, improvement, speedup, identical,
    regression_test_passed, mvp_available, tables, legacy, optimized) plus target_met (improvement >= 0.82);
    with ``benchmark_mode`` also ``benchmark`` (seconds per year of each engine, peak memory).
    ``workdir`` None: the two databases go to a temporary folder, deleted afterwards.
    """
    return await asyncio.to_thread(_comparison_blocking, start_year, end_year, config_path, benchmark_mode,
                                   census_path, workdir)


# --- batches ---------------------------------------------------------------------------------------

# Seed-API scenario keys that are shorthands for configuration overrides.
_SCENARIO_SHORTHANDS = {"start_year": "simulation.start_year", "end_year": "simulation.end_year",
                        "random_seed": "random_seed", "optimization_level": "orchestration.optimization_level",
                        "max_workers": "orchestration.max_workers", "fail_fast": "orchestration.fail_fast"}


def _scenario_entry(i: int, scenario: dict[str, Any]) -> dict[str, Any]:
    """A seed-API scenario dict -> a scenario-file entry (docs/batch.md)."""
    entry = {k: v for k, v in scenario.items() if k not in _SCENARIO_SHORTHANDS and
             k not in ("config_path", "census_path")}
    entry.setdefault("name", f"scenario_{i}")
    overrides = dict(entry.get("overrides") or {})
    for key, dotted in _SCENARIO_SHORTHANDS.items():
        if scenario.get(key) is not None:
            value = scenario[key]
            overrides[dotted] = value.value if isinstance(value, OptimizationLevel) else value
    if overrides:
        entry["overrides"] = overrides
    if scenario.get("config_path") is not None:
        entry["config"] = str(Path(scenario["config_path"]).resolve())
    if scenario.get("census_path") is not None:
        entry["census"] = str(Path(scenario["census_path"]).resolve())
    return entry


class BatchSimulationProcessor:
    """Runs many scenarios at once: at most ``max_concurrent`` runs, each in its own process and database.

    ``executor``: "local" (a process pool on this machine) or "dask" (Dask distributed; ``dask_address``
    "local" starts a LocalCluster of ``max_concurrent`` workers, otherwise the scheduler address such as
    "tcp://host:8786"). Runs, the aggregated ``batch.duckdb`` and ``report.html`` go under ``output_dir``;
    calling again with the same scenarios reuses the runs that completed. ``last_result`` is the last
    :class:`planwise_core.batch.BatchResult`. See docs/batch.md.
    """

    def __init__(self, max_concurrent: int = 4, *, executor: str = "local", dask_address: str = "local",
                 output_dir: str | Path = "output/batches/api", base_config_path: str | Path | None = None,
                 census_path: str | Path | None = None, plugin: str | None = None, report: bool = True,
                 progress=None):
        if executor not in ("local", "dask"):
            raise ValueError(f"executor must be 'local' or 'dask' (got {executor!r})")
        if not isinstance(max_concurrent, int) or max_concurrent < 1:
            raise ValueError(f"max_concurrent must be a positive integer (got {max_concurrent!r})")
        self.max_concurrent = max_concurrent
        self.executor = executor
        self.dask_address = dask_address
        self.output_dir = Path(output_dir)
        self.base_config_path = base_config_path
        self.census_path = census_path
        self.plugin = plugin
        self.report = report
        self.progress = progress
        self.last_result = None

    async def process_scenarios(self, scenarios: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run every scenario (over its ``seeds``) and return one dict per run.

        A scenario: ``name``, ``overrides`` (dotted or nested config keys), ``seeds`` (a count or a list),
        ``config_path``, ``census_path``, ``plugin``, and the shorthands ``start_year``, ``end_year``,
        ``random_seed``, ``optimization_level``, ``max_workers``, ``fail_fast``. Each run dict has
        run_id, scenario, seed, status ("completed", "failed", "invalid"), success, error, database,
        completed_years, failed_years, seconds, reused. A file-level problem (duplicate names, ...) raises
        BatchError before anything runs; a scenario's own problem makes its runs "invalid".
        """
        from .batch import plan_scenarios

        entries = [_scenario_entry(i, s) for i, s in enumerate(scenarios, start=1)]
        plan = plan_scenarios(entries, self.output_dir, source="BatchSimulationProcessor.process_scenarios",
                              base_config=_base_config(self.base_config_path), census=self.census_path,
                              plugin=self.plugin)
        return await asyncio.to_thread(self._run, plan)

    async def process_ensemble(self, seeds: int, *, first_seed: int | None = None, name: str = "ensemble",
                               overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One configuration (the base config plus ``overrides``) over ``seeds`` consecutive seeds."""
        from .batch import plan_ensemble

        base = _base_config(self.base_config_path)
        if overrides:
            base = base.with_overrides(**overrides)
        plan = plan_ensemble(seeds, self.output_dir, base_config=base, census=self.census_path, plugin=self.plugin,
                             first_seed=first_seed, name=name)
        return await asyncio.to_thread(self._run, plan)

    def _run(self, plan) -> list[dict[str, Any]]:
        from .batch import run_batch

        # The runs happen in worker processes, so this needs no engine lock; the batch folder has its own.
        dask = self.dask_address if self.executor == "dask" else None
        self.last_result = run_batch(plan, max_concurrent=self.max_concurrent, dask=dask, progress=self.progress,
                                     report=self.report)
        return [{**run, "success": run["status"] == "completed"} for run in self.last_result.runs]


# --- error handling ------------------------------------------------------------------------------


class OperationError(PlanwiseError):
    """An operation inside error_context failed. ``__cause__`` is the original exception.

    ``operation``: the operation's name; ``kinds``: the detected error kinds ("database", "memory",
    "dependency"); ``guidance``: the automatic troubleshooting lines for those kinds.
    """

    def __init__(self, message: str, operation: str, kinds: tuple[str, ...], guidance: tuple[str, ...]):
        super().__init__(message)
        self.operation = operation
        self.kinds = kinds
        self.guidance = guidance


GUIDANCE: dict[str, tuple[str, ...]] = {
    "database": (
        "Check that the database path is reachable and its folder exists (connectivity).",
        "Check read/write permissions on the database file and its folder.",
        "Check the free disk space where the database lives.",
        "Another planwise run may hold the database (its <database>.lock file): wait for it to finish, "
        "or use another database path.",
    ),
    "memory": (
        "Reduce batch_size (rows per record batch when writing year checkpoints).",
        "Enable state compression (enable_state_compression=True, --enable-compression).",
        "Use fewer workers (max_workers) or a lower optimization level.",
    ),
    "dependency": (
        "Run the years sequentially with a conservative level: OptimizationLevel.LOW (one dbt invocation "
        "per model) or OptimizationLevel.FALLBACK (the legacy engine).",
        "Reinstall the dependencies: `make test` builds .venv with `pip install -e .[test]` "
        "(remove .venv first for a clean install).",
        "Validate the inputs: validate_configuration() / `planwise validate-config FILE`, and the census file.",
    ),
}


# Whole words only: "block" is not a lock, "dbtx" is not dbt.
_DATABASE_WORDS = re.compile(r"\b(lock|locked|locking|locks|database|databases)\b")
_MEMORY_WORDS = re.compile(r"\bout of memory\b")
_DEPENDENCY_WORDS = re.compile(r"\b(dbt|depends|dependency|dependencies)\b")


def _error_kinds(exc: BaseException) -> tuple[str, ...]:
    """The error kinds of ``exc``, in the order database, memory, dependency."""
    message = str(exc).lower()
    duckdb = sys.modules.get("duckdb")  # a duckdb error can only exist once duckdb is imported
    duckdb_memory = duckdb is not None and isinstance(exc, duckdb.OutOfMemoryException)
    duckdb_error = duckdb is not None and isinstance(exc, duckdb.Error) and not duckdb_memory
    kinds = []
    if isinstance(exc, DatabaseBusyError) or duckdb_error or _DATABASE_WORDS.search(message):
        kinds.append("database")
    if isinstance(exc, MemoryError) or duckdb_memory or _MEMORY_WORDS.search(message):
        kinds.append("memory")
    if isinstance(exc, ImportError) or _DEPENDENCY_WORDS.search(message):
        kinds.append("dependency")
    return tuple(kinds)


@contextlib.contextmanager
def error_context(operation: str, troubleshooting_guide: str = "") -> Iterator[None]:
    """Re-raise any exception of the block as an OperationError (a PlanwiseError) chained from it.

    The message is "<operation> failed: <original>", then ``troubleshooting_guide``, then automatic
    guidance for each detected kind: database errors (duckdb errors, a held run lock, "lock"/"database"
    in the message), memory errors (MemoryError, "out of memory") and dependency errors (ImportError,
    "dbt"/"depends" in the message). An OperationError from a nested error_context passes unchanged;
    KeyboardInterrupt, SystemExit and cancellation are never wrapped.
    """
    try:
        yield
    except OperationError:
        raise
    except Exception as exc:
        kinds = _error_kinds(exc)
        guidance = tuple(line for kind in kinds for line in GUIDANCE[kind])
        parts = [f"{operation} failed: {exc}"]
        if troubleshooting_guide.strip():
            parts.append(troubleshooting_guide.strip())
        for kind in kinds:
            parts.append(f"{kind.capitalize()} error guidance:\n" + "\n".join(f"  - {g}" for g in GUIDANCE[kind]))
        raise OperationError("\n\n".join(parts), operation, kinds, guidance) from exc
