"""optimized and legacy run the same models: their tables must be identical row for row."""

from __future__ import annotations

import logging

import pytest

import duckdb
from helpers.sql import table_digest
from test_golden import GOLDEN, golden_census

from planwise_core.engine_comparison import compare_engines
from planwise_core.outputs.compare import all_identical
from helpers.common import compare_outputs
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    return golden_census(tmp_path_factory.mktemp("engines"))


def _run(tmp_path, census, name, level, plugin=None, end_year=2025):
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": end_year,
                                                "orchestration.optimization_level": level})
    database = tmp_path / f"{name}.duckdb"
    result = Simulation(config, database, census=census, plugin=plugin).run()
    assert result["success"], result["error"]
    return database, result


@pytest.fixture(scope="module")
def optimized_run(tmp_path_factory, census):
    return _run(tmp_path_factory.mktemp("optimized"), census, "optimized", "high")


def test_legacy_and_optimized_write_identical_tables(tmp_path, census, caplog):
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025})
    events = []
    with caplog.at_level(logging.DEBUG, logger="planwise.dbt"):
        result = compare_engines(config, tmp_path, census=census,
                                 progress=lambda engine, event: events.append((engine, event.stage,
                                                                               getattr(event, "year", None))))
    # Progress while it runs (planwise compare-engines prints these on stderr): each engine's steps, then the check.
    assert events == [(engine, event, year) for engine in ("legacy", "optimized")
                      for event, year in (("foundation", None), ("foundation_done", None), ("year", 2025),
                                          ("year_done", 2025))] + [("both", "compare", None)]
    # --verbose shows every dbt step and node with its time, from dbt's console for the subprocess engine too
    steps = [r for r in caplog.records if getattr(r, "event", None) == "dbt_step"]
    nodes = {r.node for r in caplog.records if getattr(r, "event", None) == "dbt_node"}
    assert len(steps) > 30 and all(r.seconds > 0 for r in steps)
    assert {"stg_census", "int_baseline_workforce", "int_hires", "fct_workforce_snapshot"} <= nodes
    with duckdb.connect(str(tmp_path / "legacy.duckdb"), read_only=True) as con:
        assert {t: table_digest(con, t) for t in GOLDEN[2025]} == GOLDEN[2025], "legacy left the golden tables"
    assert result["legacy"]["success"] and result["optimized"]["success"]
    assert result["identical"] and result["regression_test_passed"], result["tables"]
    assert set(result["tables"]) == {"int_workforce_requirements", "fct_yearly_events", "fct_workforce_snapshot",
                                     "fct_year_summary", "fct_dc_contributions", "fct_dc_plan_summary",
                                     "fct_ndt_employee", "fct_ndt_summary"}
    assert result["tables"]["fct_yearly_events"]["rows_first"] > 250
    assert result["speedup"] > 1, "one dbt process per model must be slower than one in-process run"
    legacy_years = duckdb.connect(str(tmp_path / "legacy.duckdb"), read_only=True).execute(
        "select plugin, dbt_invocations from planwise_year_log").fetchall()
    # legacy runs one dbt process per model: 20 yearly models (the plan's and NDT's ephemeral steps are compiled
    # into fct_dc_contributions and fct_ndt_employee; int_match_response_events and the two NDT marts count) plus
    # the start population (built with its checks)
    assert legacy_years == [("legacy", 21)]


def test_per_model_and_batched_invocations_agree_over_two_years(tmp_path, census):
    high, _ = _run(tmp_path, census, "high", "high", end_year=2026)
    low, low_result = _run(tmp_path, census, "low", "low", end_year=2026)
    assert low_result["years"]["2026"]["optimization_level"] == "low"
    assert all_identical(compare_outputs(high, low))
    # the compared years hold retirements, so the retirement models are part of what agrees
    with duckdb.connect(str(low), read_only=True) as con:
        assert con.execute("select count(*) from fct_yearly_events where event_category = 'retirement'").fetchone()[0] > 0


def test_comparison_detects_a_changed_row(tmp_path, optimized_run):
    import shutil

    first = optimized_run[0]
    second = tmp_path / "copy.duckdb"
    shutil.copy(first, second)
    con = duckdb.connect(str(second))
    con.execute("update fct_workforce_snapshot set current_compensation = current_compensation + 0.01 "
                "where employee_id = (select min(employee_id) from fct_workforce_snapshot)")
    con.close()
    comparison = compare_outputs(first, second)
    assert not comparison["fct_workforce_snapshot"]["identical"]
    assert comparison["fct_workforce_snapshot"]["only_in_first"] == 1
    assert comparison["fct_yearly_events"]["identical"]


def test_a_year_whose_previous_year_is_missing_is_refused(tmp_path, optimized_run):
    import shutil

    from planwise_core.context import RunContext
    from planwise_core.errors import SimulationError
    from planwise_core.hooks import Hooks
    from planwise_core.manager import get_plugin_manager

    database = tmp_path / "gap.duckdb"
    shutil.copy(optimized_run[0], database)
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2027})
    ctx = RunContext(config=config, database=database, run_id="gap")
    with pytest.raises(SimulationError, match="needs the results of 2026, which are missing"):
        Hooks(get_plugin_manager(), "optimized").transition_year(ctx, 2026, 2027)
    with pytest.raises(SimulationError, match="has no start population"):
        Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2027)


def test_legacy_continues_a_year_the_optimized_engine_simulated(tmp_path, optimized_run):
    """The fallback chain can switch engine between years: legacy's transition into year 2 and its year 2,
    after an optimized year 1, give exactly the golden two-year tables of an all-optimized run."""
    import shutil

    from planwise_core.context import RunContext
    from planwise_core.hooks import Hooks
    from planwise_core.manager import get_plugin_manager

    database = tmp_path / "mixed.duckdb"
    shutil.copy(optimized_run[0], database)
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2026})
    ctx = RunContext(config=config, database=database, run_id="mixed")
    legacy = Hooks(get_plugin_manager(), "legacy")
    transition = legacy.transition_year(ctx, 2025, 2026)
    assert transition.carried > 200 and "transition_state_is_carried" in transition.checks
    legacy.process_year(ctx, 2026)
    with duckdb.connect(str(database), read_only=True) as con:
        assert {t: table_digest(con, t) for t in GOLDEN[2026]} == GOLDEN[2026]
