"""The engines' regression check (``planwise compare-engines``): the same inputs through each engine (compiled,
optimized, legacy, or a selection of them), each into its own database, then every output table of each compared
with the optimized engine's (outputs/compare.py)."""

from __future__ import annotations

from pathlib import Path

from planwise_core.context import RunContext
from planwise_core.errors import PlanwiseError
from planwise_core.events import CompareStarted
from planwise_core.hooks import Hooks
from planwise_core.levels import COMPILED, FALLBACK, HIGH, LEGACY, MAX, OPTIMIZED
from planwise_core.manager import get_plugin_manager
from planwise_core.orchestrator import Simulation
from planwise_core.outputs.compare import all_identical, compare_databases

ENGINE_LEVELS = {COMPILED: MAX, OPTIMIZED: HIGH, LEGACY: FALLBACK}  # each engine on its own first level
DEFAULT_ENGINES = (LEGACY, OPTIMIZED)


def compare_engines(config, workdir: Path, census: Path | None = None, pm=None, progress=None,
                    engines: tuple[str, ...] = DEFAULT_ENGINES) -> dict:
    """Run each of ``engines`` (two or more of compiled, optimized, legacy; optimized always among them) on the
    same inputs in separate databases; time them and compare every table with the optimized engine's.

    A run counts only when every year ran on its own engine (a compiled year that fell back to optimized would
    compare optimized with itself). ``progress(engine, event)`` is called with each run's events
    (planwise_core.events), then with ``("both", CompareStarted())`` before the tables are compared.
    """
    engines = _engines(engines)
    workdir = Path(workdir)
    runs = {engine: _run(config, workdir, engine, census, pm, progress) for engine in engines}
    all_ran = all(run["success"] and run["own_engine"] for run in runs.values())
    if all_ran and progress:
        progress("both", CompareStarted())
    reference = workdir / f"{OPTIMIZED}.duckdb"
    tables = year_tables(config, reference, pm) if all_ran else ()
    comparisons = {engine: compare_databases(workdir / f"{engine}.duckdb", reference, tables) if all_ran else {}
                   for engine in engines if engine != OPTIMIZED}
    identical = all_ran and all(all_identical(tables) for tables in comparisons.values())
    times = {engine: run["total_execution_time"] for engine, run in runs.items()}
    result = {f"{engine}_time": seconds for engine, seconds in times.items()}
    slowest = LEGACY if LEGACY in times else next(e for e in engines if e != OPTIMIZED)
    base, optimized_time = times[slowest], times[OPTIMIZED]
    result.update({
        "improvement": round(1 - optimized_time / base, 4) if base else 0.0,
        "speedup": round(base / optimized_time, 2) if optimized_time else 0.0,
        "identical": identical, "regression_test_passed": identical, "mvp_available": True,
        "tables": comparisons.get(LEGACY) or next(iter(comparisons.values()), {}), "comparisons": comparisons,
        "engines": list(engines),
    })
    result.update({engine: _brief(run) for engine, run in runs.items()})
    return result


def _engines(engines) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(e.strip().lower() for e in engines))
    unknown = [e for e in chosen if e not in ENGINE_LEVELS]
    if unknown or OPTIMIZED not in chosen or len(chosen) < 2:
        raise PlanwiseError(f"compare-engines compares {OPTIMIZED} with one or more of {COMPILED}, {LEGACY} "
                          f"(got {', '.join(chosen) or 'none'}): list {OPTIMIZED} and at least one other engine.")
    return chosen


def _run(config, workdir: Path, engine: str, census, pm, progress) -> dict:
    engine_config = config.with_overrides(**{"orchestration.optimization_level": ENGINE_LEVELS[engine]})
    step = (lambda event: progress(engine, event)) if progress else None
    run = Simulation(engine_config, workdir / f"{engine}.duckdb", census=census, plugin=engine, pm=pm,
                     progress=step).run().to_dict()
    run["own_engine"] = all(year.get("plugin") == engine for year in run.get("years", {}).values())
    return run


def year_tables(config, database: Path, pm=None) -> tuple[str, ...]:
    """The tables a run writes year by year, as the optimized engine declares them (the dbt project's
    year_partition models, from its manifest): the tables the two engines must write alike."""
    ctx = RunContext(config=config, database=Path(database), run_id="compare")
    return Hooks(pm or get_plugin_manager(), OPTIMIZED).year_tables(ctx)


def _brief(result: dict) -> dict:
    brief = {k: result[k] for k in ("success", "completed_years", "failed_years", "total_execution_time", "database",
                                    "error")}
    return dict(brief, own_engine=result["own_engine"])
