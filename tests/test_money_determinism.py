"""Invariant 11 of docs/plan_rules.md 2.6: same seed -> byte-identical money tables, whichever engine ran; re-running a
year replaces its money rows."""

from __future__ import annotations

import dataclasses
import json
import shutil

import duckdb
import pytest

from helpers.sims import CensusSpec
from helpers.sql import rows
from test_money_invariants import MONEY_PLAN, SPEC

from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager
from planwise_core.engine_comparison import compare_engines

REPLICA = dataclasses.replace(SPEC, replica=1)
MONEY_TABLES = {"fct_dc_contributions": "employee_id, simulation_year", "fct_dc_plan_summary": "simulation_year"}

pytestmark = pytest.mark.slow


def dump(con, table: str) -> list[tuple]:
    found = rows(con, f"select * from {table} order by {MONEY_TABLES[table]}")
    assert found, table
    return found


@pytest.mark.parametrize("table", sorted(MONEY_TABLES))
def test_same_seed_gives_identical_money_tables(sims, table):
    sims.prefetch([SPEC, REPLICA])
    first, second = sims.get(SPEC), sims.get(REPLICA)
    assert first.database != second.database
    with first.connect() as a, second.connect() as b:
        assert dump(a, table) == dump(b, table)


def test_rerunning_a_year_replaces_its_money_rows(sims, tmp_path):
    source = sims.get(SPEC)
    database = tmp_path / "rerun.duckdb"
    shutil.copy(source.database, database)
    with duckdb.connect(str(database), read_only=True) as con:
        before = {table: dump(con, table) for table in MONEY_TABLES}
    config = PlanwiseConfig().with_overrides(**SPEC.all_overrides())
    ctx = RunContext(config=config, database=database, run_id="rerun")
    Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2029)
    with duckdb.connect(str(database), read_only=True) as con:
        assert {table: dump(con, table) for table in MONEY_TABLES} == before


def test_legacy_and_optimized_write_identical_money_tables(tmp_path):
    """Every money feature on, and a parameter table replaced (the age-band hazards of
    tests/test_assumption_runs.py): the engines read the same host-loaded tables and run the same SQL."""
    from test_assumption_runs import AGE_BANDS

    census = CensusSpec.generated(100, 29).write(tmp_path)
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "age_bands.csv").write_text(AGE_BANDS)
    # NDT on too (docs/ndt.md): its two marts must come out identical from both engines.
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025, "assumptions": str(tmp_path / "tables"),
                                                **MONEY_PLAN, "plan.ndt.enabled": True})
    result = compare_engines(config, tmp_path, census=census)
    for engine in ("legacy", "optimized"):  # both ran with the replaced table
        with duckdb.connect(str(tmp_path / f"{engine}.duckdb"), read_only=True) as con:
            recorded = json.loads(con.execute("select assumptions_json from planwise_run_log").fetchone()[0])
        assert recorded["age_bands"]["replaced"], recorded
    assert result["legacy"]["success"] and result["optimized"]["success"], result
    for table in (*MONEY_TABLES, "fct_ndt_employee", "fct_ndt_summary"):
        assert result["tables"][table]["identical"], result["tables"][table]
        assert result["tables"][table]["rows_first"] > 0
    assert result["identical"], result["tables"]
