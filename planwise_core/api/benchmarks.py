"""The inherited API's module-level run functions: foundation benchmark, one multi-year run, engine comparison."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path
from typing import Any, Iterator

from planwise_core import levels
from planwise_core.api.runs import (
    DEFAULT_DATABASE, IMPROVEMENT_TARGET, MultiYearConfig, MultiYearOrchestrator, OptimizationLevel,
    load_base_config, timed_foundation, as_level, plugin_manager,
)



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
    base = load_base_config(config_path)
    pm = plugin_manager()
    config = base.with_overrides(**{"orchestration.optimization_level": level.value})
    with _database_folder(database_path, "planwise_bench_") as database:
        optimized = timed_foundation(config, database, census_path, pm=pm)
    legacy = None
    if benchmark_mode and optimized.success:
        legacy_config = base.with_overrides(**{"orchestration.optimization_level": levels.FALLBACK})
        with _database_folder(None, "planwise_bench_legacy_") as database:
            legacy = timed_foundation(legacy_config, database, census_path, plugin=levels.LEGACY, pm=pm)
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
    level = as_level(optimization_level)
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
    from planwise_core.engine_comparison import compare_engines
    from planwise_core.monitoring.monitor import peak_rss_mb

    config = load_base_config(config_path).with_overrides(
        **{"simulation.start_year": start_year, "simulation.end_year": end_year})
    pm = plugin_manager()
    with contextlib.ExitStack() as stack:
        folder = Path(workdir) if workdir is not None else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="planwise_compare_")))
        folder.mkdir(parents=True, exist_ok=True)
        result = compare_engines(config, folder, census=census_path, pm=pm)
    result["target_met"] = result["improvement"] >= IMPROVEMENT_TARGET
    if benchmark_mode:
        def per_year(run: dict) -> float | None:
            years = len(run["completed_years"])
            return round(run["total_execution_time"] / years, 3) if years else None

        result["benchmark"] = {"legacy_seconds_per_year": per_year(result[levels.LEGACY]),
                               "optimized_seconds_per_year": per_year(result[levels.OPTIMIZED]),
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
