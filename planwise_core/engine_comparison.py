"""The engines' regression check (``planwise compare-engines``): the same inputs through legacy and optimized,
each into its own database, then every output table compared (outputs/compare.py)."""

from __future__ import annotations

from pathlib import Path

from planwise_core.context import RunContext
from planwise_core.events import CompareStarted
from planwise_core.hooks import Hooks
from planwise_core.levels import FALLBACK, HIGH, LEGACY, OPTIMIZED
from planwise_core.manager import get_plugin_manager
from planwise_core.orchestrator import Simulation
from planwise_core.outputs.compare import all_identical, compare_databases


def compare_engines(config, workdir: Path, census: Path | None = None, pm=None, progress=None) -> dict:
    """Run legacy and optimized on the same inputs in separate databases; time both and compare every table.

    ``progress(engine, event)`` is called with each run's events (planwise_core.events), then with
    ``("both", CompareStarted())`` before the tables are compared.
    """
    workdir = Path(workdir)
    runs = {}
    for engine, level in ((LEGACY, FALLBACK), (OPTIMIZED, HIGH)):
        engine_config = config.with_overrides(**{"orchestration.optimization_level": level})
        step = (lambda event, _engine=engine: progress(_engine, event)) if progress else None
        runs[engine] = Simulation(engine_config, workdir / f"{engine}.duckdb", census=census, plugin=engine, pm=pm,
                                  progress=step).run().to_dict()
    legacy, optimized = runs[LEGACY], runs[OPTIMIZED]
    both_ran = legacy["success"] and optimized["success"]
    if both_ran and progress:
        progress("both", CompareStarted())
    first, second = workdir / f"{LEGACY}.duckdb", workdir / f"{OPTIMIZED}.duckdb"
    tables = compare_databases(first, second, year_tables(config, second, pm)) if both_ran else {}
    identical = both_ran and all_identical(tables)
    legacy_time, optimized_time = legacy["total_execution_time"], optimized["total_execution_time"]
    return {
        "legacy_time": legacy_time, "optimized_time": optimized_time,
        "improvement": round(1 - optimized_time / legacy_time, 4) if legacy_time else 0.0,
        "speedup": round(legacy_time / optimized_time, 2) if optimized_time else 0.0,
        "identical": identical, "regression_test_passed": identical, "mvp_available": True,
        "tables": tables, LEGACY: _brief(legacy), OPTIMIZED: _brief(optimized),
    }


def year_tables(config, database: Path, pm=None) -> tuple[str, ...]:
    """The tables a run writes year by year, as the optimized engine declares them (the dbt project's
    year_partition models, from its manifest): the tables the two engines must write alike."""
    ctx = RunContext(config=config, database=Path(database), run_id="compare")
    return Hooks(pm or get_plugin_manager(), OPTIMIZED).year_tables(ctx)


def _brief(result: dict) -> dict:
    return {k: result[k] for k in ("success", "completed_years", "failed_years", "total_execution_time", "database",
                                   "error")}
