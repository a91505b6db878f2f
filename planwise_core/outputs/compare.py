"""The engines' regression check (``planwise compare-engines``): the same inputs through legacy and optimized,
each into its own database, then every output table compared row by row."""

from __future__ import annotations

from pathlib import Path

from planwise_core.levels import FALLBACK, HIGH, LEGACY, OPTIMIZED

import duckdb

OUTPUT_TABLES = ("int_workforce_requirements", "fct_yearly_events", "fct_workforce_snapshot", "fct_year_summary",
                 "fct_dc_contributions", "fct_dc_plan_summary", "fct_ndt_employee", "fct_ndt_summary")


def compare_databases(first: Path, second: Path, tables: tuple[str, ...] = OUTPUT_TABLES) -> dict:
    """For each table: row counts and the number of rows found in only one of the two databases."""
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(first)} as a (read_only)")
        con.execute(f"attach {_literal(second)} as b (read_only)")
        return {table: _compare_table(con, table) for table in tables}
    finally:
        con.close()


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _compare_table(con, table: str) -> dict:
    rows_a = con.execute(f'select count(*) from a."{table}"').fetchone()[0]
    rows_b = con.execute(f'select count(*) from b."{table}"').fetchone()[0]
    # EXCEPT ALL keeps duplicates, so a doubled row counts as a difference too.
    only_a = con.execute(f'select count(*) from (select * from a."{table}" except all select * from b."{table}")').fetchone()[0]
    only_b = con.execute(f'select count(*) from (select * from b."{table}" except all select * from a."{table}")').fetchone()[0]
    return {"rows_first": rows_a, "rows_second": rows_b, "only_in_first": only_a, "only_in_second": only_b,
            "identical": only_a == 0 and only_b == 0 and rows_a == rows_b}


def all_identical(comparison: dict) -> bool:
    return all(t["identical"] for t in comparison.values())


def compare_engines(config, workdir: Path, census: Path | None = None, pm=None, progress=None) -> dict:
    """Run legacy and optimized on the same inputs in separate databases; time both and compare every table.

    ``progress(engine, event, **info)`` is called as each run goes (the Simulation's events: ``foundation``,
    ``foundation_done``, ``year``, ``year_done``), then with ``compare`` before the tables are compared.
    """
    from planwise_core.orchestrator import Simulation

    workdir = Path(workdir)
    runs = {}
    for engine, level in ((LEGACY, FALLBACK), (OPTIMIZED, HIGH)):
        engine_config = config.with_overrides(**{"orchestration.optimization_level": level})
        step = (lambda event, _engine=engine, **info: progress(_engine, event, **info)) if progress else None
        runs[engine] = Simulation(engine_config, workdir / f"{engine}.duckdb", census=census, plugin=engine, pm=pm,
                                  progress=step).run()
    legacy, optimized = runs[LEGACY], runs[OPTIMIZED]
    both_ran = legacy["success"] and optimized["success"]
    if both_ran and progress:
        progress("both", "compare")
    tables = compare_databases(workdir / f"{LEGACY}.duckdb", workdir / f"{OPTIMIZED}.duckdb") if both_ran else {}
    identical = both_ran and all_identical(tables)
    legacy_time, optimized_time = legacy["total_execution_time"], optimized["total_execution_time"]
    return {
        "legacy_time": legacy_time, "optimized_time": optimized_time,
        "improvement": round(1 - optimized_time / legacy_time, 4) if legacy_time else 0.0,
        "speedup": round(legacy_time / optimized_time, 2) if optimized_time else 0.0,
        "identical": identical, "regression_test_passed": identical, "mvp_available": True,
        "tables": tables, LEGACY: _brief(legacy), OPTIMIZED: _brief(optimized),
    }


def _brief(result: dict) -> dict:
    return {k: result[k] for k in ("success", "completed_years", "failed_years", "total_execution_time", "database",
                                   "error")}
