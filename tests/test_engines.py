"""optimized and legacy run the same models: their tables must be identical row for row.

The legacy engine starts one dbt process per model (about 2 s each), so the suite runs it as little as it can:
ONE shared comparison (``COMPARISON``: ``compare_engines`` through the ``sims`` registry, legacy's database checked
against the whole invariant set) on inputs that switch on everything the engines must agree on (every money
feature, the NDT with a failing ADP so that corrections happen, a replaced parameter table), and ONE legacy year
on a copy of the optimized run of the same inputs (``OPTIMIZED_2Y``), which proves at once that legacy continues a
year the optimized engine simulated, that its year 2 agrees (money balances carried, the NDT's prior year), and
that re-running a year replaces exactly its partition. The optimized engine is pinned to the golden digests by
tests/test_golden.py; legacy = optimized on these inputs and the other levels = optimized on them carry it over.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import duckdb
import pytest

from helpers.common import compare_outputs
from helpers.sims import CensusSpec, SimSpec
from helpers.sql import scalar
from test_assumption_runs import AGE_BANDS
from test_materializations import partitions
from test_money_invariants import MONEY_PLAN

from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.engine.nodes import year_partitioned_models
from planwise_core.engine.project import DbtProject
from planwise_core.errors import SimulationError
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager
from planwise_core.outputs.compare import all_identical

pytestmark = pytest.mark.slow


def _table_rows(text: str) -> list[dict]:
    """A CSV parameter table as inline rows (numbers as numbers)."""
    def value(cell: str):
        try:
            return int(cell)
        except ValueError:
            try:
                return float(cell)
            except ValueError:
                return cell
    return [{k: value(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


# Prior-year NDT with a configured 0 % NHCE average: the 2025 ADP fails, so the correction chain runs in both.
NDT_FAILING = {"plan.ndt.enabled": True, "plan.ndt.testing_method": "prior_year", "plan.ndt.prior_year_nhce.adp": 0.0,
               "plan.ndt.prior_year_nhce.acp": 0.0}
# The age-band hazards of tests/test_assumption_runs.py: terminations of 35-44 at 4x, a host-loaded table replaced.
INPUTS = {**MONEY_PLAN, **NDT_FAILING, "assumptions": {"age_bands": _table_rows(AGE_BANDS)}}
CENSUS = CensusSpec.generated(200, 29)
COMPARISON = SimSpec.make(CENSUS, engines=True, **INPUTS)  # 2025, legacy then optimized
OPTIMIZED_2Y = SimSpec.make(CENSUS, end_year=2026, **INPUTS, **{"orchestration.optimization_level": "high"})
LOW_2Y = SimSpec.make(CENSUS, end_year=2026, **INPUTS, **{"orchestration.optimization_level": "low"})
YEAR_TABLES = {"int_workforce_requirements", "fct_yearly_events", "fct_workforce_snapshot", "fct_year_summary",
               "fct_dc_contributions", "fct_dc_plan_summary", "fct_ndt_employee", "fct_ndt_summary"}


@pytest.fixture(scope="module", autouse=True)
def _prefetch(sims):
    sims.prefetch([OPTIMIZED_2Y, LOW_2Y])


@pytest.fixture(scope="module")
def comparison(sims):
    run = sims.get(COMPARISON)  # only when a selected test needs it: legacy's foundation and year are slow
    assert run.result["success"], run.result
    return run


def test_compare_engines_reports_progress_and_every_dbt_step(comparison):
    """planwise compare-engines prints each engine's steps, then the check; --verbose shows every dbt step and node
    with its time, from dbt's console for the subprocess engine too."""
    assert comparison.result["progress"] == [[engine, event, year] for engine in ("legacy", "optimized")
                                             for event, year in (("foundation", None), ("foundation_done", None),
                                                                 ("year", 2025), ("year_done", 2025))] + [
        ["both", "compare", None]]
    steps = [r for r in comparison.result["dbt_log"] if r["event"] == "dbt_step"]
    nodes = {r["node"] for r in comparison.result["dbt_log"] if r["event"] == "dbt_node"}
    assert len(steps) > 30 and all(r["seconds"] > 0 for r in steps)
    assert {"stg_census", "int_baseline_workforce", "int_hires", "fct_workforce_snapshot", "fct_dc_contributions",
            "fct_ndt_employee"} <= nodes


def test_legacy_and_optimized_write_identical_tables_money_and_ndt_included(comparison):
    """Invariant 11 of docs/plan_rules.md 2.6 across engines: every money feature on, the NDT correcting a failed
    ADP, a parameter table replaced: the engines read the same host-loaded tables and run the same SQL."""
    result = comparison.result
    assert set(result["tables"]) == YEAR_TABLES
    for table in YEAR_TABLES:
        assert result["tables"][table]["identical"] and result["tables"][table]["rows_first"] > 0, (
            table, result["tables"][table])
    assert result["identical"] and result["regression_test_passed"]
    for database in (comparison.database, comparison.optimized):  # both ran with the replaced table
        with duckdb.connect(str(database), read_only=True) as con:
            recorded = json.loads(scalar(con, "select assumptions_json from planwise_run_log"))
            assert recorded["age_bands"]["replaced"], recorded
            # the comparison has cases to bite on: NDT corrections and every kind of money
            assert scalar(con, "select count(*) from fct_ndt_employee where adp_excess > 0") > 0
            assert scalar(con, "select count(*) from fct_dc_contributions where roth_deferral > 0 "
                               "and employer_core > 0 and employer_match > 0") > 0


def test_legacy_runs_one_dbt_process_per_model_and_is_slower(comparison):
    assert comparison.result["speedup"] > 1, "one dbt process per model must be slower than one in-process run"
    with comparison.connect() as con:
        years = con.execute("select plugin, dbt_invocations from planwise_year_log").fetchall()
    # legacy runs one dbt process per model: 20 yearly models (the plan's and NDT's ephemeral steps are compiled
    # into fct_dc_contributions and fct_ndt_employee; int_match_response_events and the two NDT marts count) plus
    # the start population (built with its checks)
    assert years == [("legacy", 21)]


def test_legacy_continues_an_optimized_year_and_replaces_exactly_its_partition(tmp_path, sims):
    """The fallback chain can switch engine between years, and a re-run year replaces exactly its partition: on a
    copy of the optimized 2025-2026 run whose 2026 rows were made stale (one row doubled in every year table, pay
    changed), legacy's transition into 2026 and its 2026 give exactly the optimized run's tables, 2025 untouched."""
    reference = sims.get(OPTIMIZED_2Y)
    assert reference.result["success"], reference.result
    tables = year_partitioned_models(DbtProject(reference.database))
    assert set(tables) == YEAR_TABLES
    expected = partitions(reference.database, tables)
    database = tmp_path / "sim.duckdb"  # the registry's file name: its catalog's parse is reused
    shutil.copy(reference.database, database)
    with duckdb.connect(str(database)) as con:
        for table in tables:
            con.execute(f'insert into "{table}" select * from "{table}" where simulation_year = 2026 limit 1')
        con.execute("update fct_workforce_snapshot set current_compensation = current_compensation + 1 "
                    "where simulation_year = 2026")
    assert partitions(database, tables) != expected
    ctx = RunContext(config=OPTIMIZED_2Y.config(), database=database, run_id="mixed")
    legacy = Hooks(get_plugin_manager(), "legacy")
    transition = legacy.transition_year(ctx, 2025, 2026)
    assert transition.carried > 150 and "transition_state_is_carried" in transition.checks
    assert legacy.process_year(ctx, 2026).dbt_invocations == 20
    assert partitions(database, tables) == expected


def test_per_model_and_batched_invocations_agree_over_two_years(sims):
    low = sims.get(LOW_2Y)
    assert low.result["success"], low.result
    high = sims.get(OPTIMIZED_2Y)
    with low.connect() as con:
        assert con.execute("select distinct optimization_level from planwise_year_log").fetchall() == [("low",)]
        # the compared years hold retirements, so the retirement models are part of what agrees
        assert scalar(con, "select count(*) from fct_yearly_events where event_category = 'retirement'") > 0
    assert all_identical(compare_outputs(high.database, low.database))


def test_comparison_detects_a_changed_row(tmp_path, sims):
    first = sims.get(OPTIMIZED_2Y).database
    second = tmp_path / "copy.duckdb"
    shutil.copy(first, second)
    with duckdb.connect(str(second)) as con:
        con.execute("update fct_workforce_snapshot set current_compensation = current_compensation + 0.01 "
                    "where simulation_year = 2026 and employee_id = "
                    "(select min(employee_id) from fct_workforce_snapshot where simulation_year = 2026)")
    comparison = compare_outputs(first, second)
    assert not comparison["fct_workforce_snapshot"]["identical"]
    assert comparison["fct_workforce_snapshot"]["only_in_first"] == 1
    assert comparison["fct_yearly_events"]["identical"]


def test_a_year_whose_previous_year_is_missing_is_refused(tmp_path, sims):
    database = tmp_path / "sim.duckdb"
    shutil.copy(sims.get(OPTIMIZED_2Y).database, database)
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2028})
    ctx = RunContext(config=config, database=database, run_id="gap")
    with pytest.raises(SimulationError, match="needs the results of 2027, which are missing"):
        Hooks(get_plugin_manager(), "optimized").transition_year(ctx, 2027, 2028)
    with pytest.raises(SimulationError, match="has no start population"):
        Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2028)
