"""Invariant 11 of docs/plan_rules.md 2.6: same seed -> byte-identical money tables, whichever engine ran; re-running a
year replaces its money rows.

Same seed, separate runs: tests/test_determinism.py compares the default plan's money tables of two 2-year runs, and
tests/test_engines.py compares, with every money feature on (Roth, core, escalation, graded vesting), the NDT
correcting and a parameter table replaced, legacy with optimized and the per-model level with the batched one: every
one of them two separate databases, so no replica of the 5-year money run is needed here."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from helpers.sql import rows
from test_money_invariants import SPEC

from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager

MONEY_TABLES = {"fct_dc_contributions": "employee_id, simulation_year", "fct_dc_plan_summary": "simulation_year"}

pytestmark = pytest.mark.slow


def dump(con, table: str) -> list[tuple]:
    found = rows(con, f"select * from {table} order by {MONEY_TABLES[table]}")
    assert found, table
    return found


def test_rerunning_a_year_replaces_its_money_rows(sims, tmp_path):
    source = sims.get(SPEC)
    database = tmp_path / "sim.duckdb"  # the registry's file name: its catalog's parse is reused
    shutil.copy(source.database, database)
    with duckdb.connect(str(database), read_only=True) as con:
        before = {table: dump(con, table) for table in MONEY_TABLES}
    config = PlanwiseConfig().with_overrides(**SPEC.all_overrides())
    ctx = RunContext(config=config, database=database, run_id="rerun")
    Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2029)
    with duckdb.connect(str(database), read_only=True) as con:
        assert {table: dump(con, table) for table in MONEY_TABLES} == before
