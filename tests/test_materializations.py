"""The project's own materializations (macros/materializations) and the host keeping the build open (Keeper):
a re-run year replaces exactly its partition, a changed column fails loudly before anything is deleted, the
optimized engine invokes dbt once per year, DuckDB threads follow the census, and a held build is shared in-process but free for subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from helpers.sims import CensusSpec, SimSpec
from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.database.connection import Keeper
from planwise_core.engine.nodes import year_partitioned_models
from planwise_core.engine.project import DbtProject
from planwise_core.errors import SimulationError
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager

# NDT on, so that every year-partitioned table holds rows (the NDT marts are empty without it).
SPEC = SimSpec.make(CensusSpec.generated(200, 16), end_year=2026, **{"plan.ndt.enabled": True})


def partitions(database, tables) -> dict[str, list[tuple]]:
    """Every row of each table, sorted: the exact content, duplicates included."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: sorted(con.execute(f'select * from "{t}"').fetchall(), key=repr) for t in tables}


@pytest.fixture(scope="module")
def two_years(sims):
    return sims.get(SPEC)


def rerun_copy(tmp_path, source, name: str):
    database = tmp_path / name / "sim.duckdb"  # the registry's file name: its catalog's parse is reused
    database.parent.mkdir()
    shutil.copy(source.database, database)
    config = PlanwiseConfig().with_overrides(**SPEC.all_overrides())
    return database, RunContext(config=config, database=database, run_id=name)


def test_the_year_partitioned_tables_are_the_marts_and_the_requirements(two_years):
    assert set(year_partitioned_models(DbtProject(two_years.database))) == {
        "int_workforce_requirements", "fct_yearly_events", "fct_workforce_snapshot", "fct_year_summary",
        "fct_dc_contributions", "fct_dc_plan_summary", "fct_ndt_employee", "fct_ndt_summary"}


def test_rerunning_a_year_replaces_exactly_its_partition(tmp_path, two_years):
    """The last year again gives the very same rows (none doubled, none lost), earlier years kept. The legacy
    engine's re-run (of stale rows) is tests/test_engines.py's mixed-engine test: one legacy year serves both."""
    tables = year_partitioned_models(DbtProject(two_years.database))
    before = partitions(two_years.database, tables)
    assert all(any(r for r in rows) for rows in before.values())
    database, ctx = rerun_copy(tmp_path, two_years, "optimized")
    result = Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2026)
    assert partitions(database, tables) == before
    # The dbt invocations of a year: the yearly models in one (the start population was built before).
    assert result.dbt_invocations == 1


@pytest.mark.parametrize("change", ["add column extra integer", "alter column hires type double",
                                    "drop column retirements"])
def test_a_changed_column_fails_loudly_and_deletes_nothing(tmp_path, two_years, change):
    database, ctx = rerun_copy(tmp_path, two_years, "changed")
    with duckdb.connect(str(database)) as con:
        columns = [r[0] for r in con.execute("describe fct_year_summary").fetchall()]
        column = change.split()[2]
        if not change.startswith("add"):
            assert column in columns, columns  # the change must touch a real column to prove anything
        con.execute(f"alter table fct_year_summary {change}")
    before = partitions(database, ["fct_year_summary"])
    with pytest.raises(SimulationError, match="fct_year_summary changed its columns"):
        Hooks(get_plugin_manager(), "optimized").process_year(ctx, 2026)
    assert partitions(database, ["fct_year_summary"]) == before


def test_a_run_invokes_dbt_once_per_year(tmp_path):
    from planwise_core.orchestrator import Simulation

    census = CensusSpec.generated(150, 17).write(tmp_path)
    # the optimized engine's count (the default engine, compiled, runs no dbt on a warm cache)
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2027, "orchestration.optimization_level": "high"})
    result = Simulation(config, tmp_path / "count.duckdb", census=census, performance_mode=True).run()
    assert result["success"], result["error"]
    foundation = sum(s["dbt_invocations"] for s in result["performance_metrics"]["foundation_steps"])
    total = result["plugin_metrics"]["optimized"]["dbt_invocations"]
    # One `dbt build` a year (start population, transition checks, models) and one for the foundation.
    assert total - foundation == 3 and foundation == 1, (total, foundation)


def test_a_held_build_is_shared_in_process_and_released_for_subprocesses(tmp_path):
    database = tmp_path / "held.duckdb"
    opener = [sys.executable, "-c", f"import duckdb; duckdb.connect({str(database)!r}).close()"]
    keeper = Keeper(database)
    keeper.hold(True)
    try:
        with duckdb.connect(str(database)) as con:  # the same instance: writes go to the log, not yet the file
            con.execute("create table t as select range as i from range(1000)")
        assert database.with_name("held.duckdb.wal").exists(), "closing a shared connection checkpointed the file"
        locked = subprocess.run(opener, capture_output=True, text=True)
        assert locked.returncode != 0 and "lock" in locked.stderr.lower()
        keeper.hold(False)  # before a dbt subprocess runs
        assert subprocess.run(opener, capture_output=True, text=True).returncode == 0
        keeper.hold(True)
    finally:
        keeper.close()
    assert not database.with_name("held.duckdb.wal").exists()
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from t").fetchone()[0] == 1000


def test_a_pool_worker_share_of_the_cores_reaches_every_connection_of_the_held_build(tmp_path, monkeypatch):
    from planwise_core.batch.executors import start_worker
    from planwise_core.database.connection import DUCKDB_THREADS_ENV

    monkeypatch.delenv(DUCKDB_THREADS_ENV, raising=False)
    start_worker(os.getppid(), workers=64)  # its watch thread sleeps while our own parent lives
    assert os.environ[DUCKDB_THREADS_ENV] == "1"
    keeper = Keeper(tmp_path / "threads.duckdb")
    keeper.hold(True)
    try:
        with duckdb.connect(str(tmp_path / "threads.duckdb")) as con:  # as dbt-duckdb's connection would
            assert con.execute("select current_setting('threads')").fetchone()[0] == 1
    finally:
        keeper.close()


def test_a_held_build_runs_duckdb_on_one_thread_below_half_a_million_employees(tmp_path, monkeypatch):
    """docs/configuration.md: 1 DuckDB thread for a census below 500,000 rows, DuckDB's default above (every
    core), and PLANWISE_DUCKDB_THREADS always wins."""
    from planwise_core.database.connection import ONE_THREAD_BELOW

    monkeypatch.delenv("PLANWISE_DUCKDB_THREADS", raising=False)
    default = duckdb.connect().execute("select current_setting('threads')").fetchone()[0]

    def held_threads(rows: int) -> int:
        database = tmp_path / f"census_{rows}.duckdb"
        with duckdb.connect(str(database)) as con:
            con.execute(f"create schema if not exists raw; create or replace table raw.census as select range as i from range({rows})")
        keeper = Keeper(database)
        keeper.hold(True)
        try:
            with duckdb.connect(str(database)) as con:  # the held instance: what dbt's connections see
                return con.execute("select current_setting('threads')").fetchone()[0]
        finally:
            keeper.close()

    assert held_threads(1_000) == 1
    assert held_threads(ONE_THREAD_BELOW - 1) == 1
    assert ONE_THREAD_BELOW == 500_000 and held_threads(ONE_THREAD_BELOW) == default
    monkeypatch.setenv("PLANWISE_DUCKDB_THREADS", "3")
    assert held_threads(1_000) == 3
