"""MultiYearOrchestrator and its configuration and result objects: multi-year runs from async code.

The blocking runs execute in a worker thread (``asyncio.to_thread``). Runs started concurrently from one event
loop are queued rather than interleaved: each engine holds its own process lock around a run (engines.py).
"""

from __future__ import annotations

import asyncio
import enum
import time
from pathlib import Path
from typing import Any

import attrs

from planwise_core import levels
from planwise_core.config import SHORTHANDS, PlanwiseConfig, default_config
from planwise_core.errors import PlanwiseError, require_path
from planwise_core.names import DEFAULT_DATABASE

FOUNDATION_TARGET_SECONDS = 10.0
IMPROVEMENT_TARGET = 0.82


class OptimizationLevel(enum.Enum):
    """Starting rung of the fallback chain MAX -> HIGH -> MEDIUM -> LOW -> FALLBACK (default MAX).

    MAX: the compiled engine (dbt compiles each step once, cached; DuckDB runs the SQL). HIGH: optimized engine,
    dbt with ``max_workers`` threads. MEDIUM: optimized, one thread. LOW: optimized, one dbt invocation per model.
    FALLBACK: the legacy engine (one dbt process per model).
    A year that fails at one level is retried at the next one (unless ``fail_fast``).
    """

    MAX = levels.MAX
    HIGH = levels.HIGH
    MEDIUM = levels.MEDIUM
    LOW = levels.LOW
    FALLBACK = levels.FALLBACK


def as_level(value: OptimizationLevel | str) -> OptimizationLevel:
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
    optimization_level: OptimizationLevel = attrs.field(default=OptimizationLevel.MAX, converter=as_level)
    max_workers: int = 4
    batch_size: int = 1000
    enable_state_compression: bool = True
    fail_fast: bool = False
    performance_monitoring: bool = True
    census_path: str | Path | None = attrs.field(default=None,
                                                 validator=lambda _, a, v: require_path(v, a.name))
    database_path: str | Path = attrs.field(default=DEFAULT_DATABASE,
                                            validator=lambda _, a, v: require_path(v, a.name, optional=False))
    random_seed: int | None = None
    max_retries: int | None = None
    plugin: str | None = None

    def overrides(self) -> dict[str, Any]:
        """The dotted-path overrides applied to the base PlanwiseConfig."""
        values = {"start_year": self.start_year, "end_year": self.end_year,
                  "optimization_level": self.optimization_level.value, "max_workers": self.max_workers,
                  "batch_size": self.batch_size, "enable_state_compression": self.enable_state_compression,
                  "fail_fast": self.fail_fast, "random_seed": self.random_seed, "max_retries": self.max_retries}
        return {SHORTHANDS[name]: value for name, value in values.items() if value is not None}


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
    """Outcome of a foundation setup (census load excluded): staging, baseline and their dbt tests."""

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


load_base_config = default_config  # the name the API modules use


def plugin_manager():
    from planwise_core.manager import get_plugin_manager

    return get_plugin_manager()


def timed_foundation(config: PlanwiseConfig, database: Path, census, plugin: str | None = None,
                pm=None) -> FoundationSetupResult:
    """Load the census and run the foundation hooks into ``database``; domain errors become success=False."""
    from planwise_core.orchestrator import Simulation

    started = time.perf_counter()
    try:
        result = Simulation(config, database, census=census, plugin=plugin, pm=pm or plugin_manager()
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
        from planwise_core.database.checkpoints import StateManager

        if not isinstance(config, MultiYearConfig):
            raise TypeError(f"config must be a MultiYearConfig, got {type(config).__name__}")
        require_path(base_config_path, "base_config_path")
        self.config = config
        self.base_config_path = base_config_path
        self.planwise_config = load_base_config(base_config_path).with_overrides(**config.overrides())
        self.database = Path(config.database_path)
        self.state_manager = StateManager.for_database(
            self.database.resolve(), enable_compression=config.enable_state_compression, batch_size=config.batch_size)
        self._history: list[MultiYearResult] = []
        self._pm = None

    def _simulation(self):
        from planwise_core.orchestrator import Simulation

        if self._pm is None:
            self._pm = plugin_manager()
        return Simulation(self.planwise_config, self.database, census=self.config.census_path,
                          plugin=self.config.plugin, pm=self._pm,
                          performance_mode=self.config.performance_monitoring)

    def _run_blocking(self) -> MultiYearResult:
        simulation = self._simulation()
        raw = simulation.run().to_dict()
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
            self._pm = plugin_manager()
        return timed_foundation(self.planwise_config, self.database, self.config.census_path, self.config.plugin,
                           self._pm)

    async def _execute_foundation_setup(self) -> FoundationSetupResult:
        """Load the census and parameter tables and build the foundation (staging, baseline, tests) into the database only."""
        return await asyncio.to_thread(self._foundation_blocking)

    def get_performance_summary(self) -> dict[str, Any]:
        """Totals over this orchestrator's runs.

        Keys: total_simulations, successful_simulations, success_rate (successful / total),
        average_execution_time, total_years_simulated (completed years), optimization_effectiveness
        ({level: {years, rows, seconds, records_per_second}} over the years each level actually ran).
        """
        runs = self._history
        by_level: dict[str, dict[str, Any]] = {}
        for run in runs:
            for detail in run.raw.get("years", {}).values():
                entry = by_level.setdefault(detail["optimization_level"], {"years": 0, "rows": 0, "seconds": 0.0})
                entry["years"] += 1
                entry["rows"] += detail["rows"]
                entry["seconds"] += detail["seconds"]
        for entry in by_level.values():
            entry["seconds"] = round(entry["seconds"], 3)
            entry["records_per_second"] = round(entry["rows"] / entry["seconds"], 1) if entry["seconds"] else 0.0
        successful = sum(run.success for run in runs)
        return {
            "total_simulations": len(runs),
            "successful_simulations": successful,
            "success_rate": round(successful / len(runs), 4) if runs else 0.0,
            "average_execution_time": round(sum(r.total_execution_time for r in runs) / len(runs), 3) if runs else 0.0,
            "total_years_simulated": sum(len(r.completed_years) for r in runs),
            "optimization_effectiveness": by_level,
        }

    def get_simulation_history(self) -> list[MultiYearResult]:
        """The results of this orchestrator's finished runs, oldest first (a copy)."""
        return list(self._history)


def create_multi_year_orchestrator(start_year: int, end_year: int,
                                   optimization_level: OptimizationLevel = OptimizationLevel.MAX,
                                   base_config_path: Path | None = None, **kwargs) -> MultiYearOrchestrator:
    """An orchestrator for ``start_year``..``end_year``; ``kwargs`` are further MultiYearConfig fields."""
    config = MultiYearConfig(start_year=start_year, end_year=end_year, optimization_level=optimization_level, **kwargs)
    return MultiYearOrchestrator(config, base_config_path)


def create_high_performance_orchestrator(start_year: int, end_year: int, max_workers: int = 8,
                                         base_config_path: Path | None = None) -> MultiYearOrchestrator:
    """An orchestrator at OptimizationLevel.MAX (the compiled engine, falling back to HIGH with ``max_workers`` dbt
    threads) and compressed checkpoints.

    It writes to the default database (output/planwise.duckdb) with the built-in census; use
    create_multi_year_orchestrator for other paths.
    """
    return create_multi_year_orchestrator(start_year, end_year, OptimizationLevel.MAX, base_config_path,
                                          max_workers=max_workers, enable_state_compression=True)
