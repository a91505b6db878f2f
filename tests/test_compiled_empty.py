"""Models without rows in a configuration (docs/compiled_engine.md, "Models without rows"): a model that declares
``meta.empty_unless`` runs its query once in a run, then a year only clears its rows; and each declaration is
true of the model's SQL (no rows with its var off, rows with it on)."""

from __future__ import annotations

import shutil

import attrs
import duckdb
import pytest

from test_compiled_engine import GOLDEN_5Y, _entry, _model

from planwise_core.engine.compiled.agnostic import compile_vars, run_variables, set_variables
from planwise_core.engine.compiled.compiler import CompiledSQLError, compile_phase
from planwise_core.engine.compiled.executor import Tally, run_entry
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.nodes import YEARLY
from planwise_core.engine.project import DbtProject

DECLARED = {"fct_dc_contributions": "plan_enabled", "fct_dc_plan_summary": "plan_enabled",
            "fct_ndt_employee": "plan_ndt_enabled", "fct_ndt_summary": "plan_ndt_enabled"}


def test_a_model_without_rows_runs_its_query_once_a_run_then_only_clears_its_year():
    con, tally = duckdb.connect(), Tally()
    con.execute("create table source as select 1 as x")
    node = attrs.evolve(_model("fct_e", "select 2025 as simulation_year, x from source where false"), empty=True)
    run_entry(con, _entry(node), 2025, tally)  # the query runs: the table is created (no rows)
    assert tally.ran_once == {"fct_e"} and con.execute("describe fct_e").fetchall()
    con.execute("insert into fct_e values (2026, 9), (2027, 9)")  # a stale 2026 row: the year must lose it
    con.execute("drop table source")  # from now on running the query fails: only a cleared year succeeds
    run_entry(con, _entry(node), 2026, tally)
    assert con.execute("select * from fct_e").fetchall() == [(2027, 9)]
    with pytest.raises(CompiledSQLError, match=r"^compiled engine: model fct_e failed: Catalog Error"):
        run_entry(con, _entry(node), 2027, Tally())  # another run runs the query (and checks the columns) once
    con.execute("drop table fct_e")
    con.execute("create table source as select 1 as x")
    run_entry(con, _entry(node), 2027, tally)  # the table gone (a rolled-back tail made it): made again
    assert con.execute("select count(*) from fct_e").fetchone() == (0,)
    assert tally.statements == 3  # the failed statement of the other run is not counted here


@pytest.mark.slow
def test_each_declared_model_has_no_rows_with_its_var_off_and_rows_with_it_on(sims, tmp_path):
    """On the golden optimized run (plan and NDT on), 2027: the later-year SQL of each declared model, compiled
    with the configuration's vars, returns rows; with the declared var off it returns none, and the compile marks
    the model empty (and only the declared models)."""
    run = sims.get(GOLDEN_5Y)
    assert run.result["success"], run.result
    database = tmp_path / run.database.name  # the catalog the compiled SQL names
    shutil.copy(run.database, database)
    dbt_vars = run.spec.config().to_dbt_vars()
    invoker = InProcessDbt(DbtProject(database), dbt_vars)
    counts = {}
    for var_on in (True, False):
        key = {"vars": {**compile_vars(dbt_vars, 2027), **{var: var_on for var in set(DECLARED.values())}}}
        entry = compile_phase(invoker, key, YEARLY, False)
        nodes = {n.name: n for n in entry.nodes}
        assert {name for name, n in nodes.items() if n.empty} == (set() if var_on else set(DECLARED))
        assert set(DECLARED.values()) <= set(entry.key["reads"])  # the flags depend on them: so does the key
        with duckdb.connect(str(database), read_only=True) as con:
            set_variables(con, run_variables(dbt_vars, 2027))
            counts[var_on] = {name: con.execute(f"select count(*) from ({nodes[name].sql})").fetchone()[0]
                              for name in DECLARED}
    assert all(counts[True].values()), counts
    assert counts[False] == dict.fromkeys(DECLARED, 0)
    # a declaration naming no boolean var of the configuration is a compile error (the year falls back)
    key = {"vars": {**compile_vars(dbt_vars, 2027), "plan_ndt_enabled": "yes"}}
    with pytest.raises(CompiledSQLError, match=r"model fct_ndt_\w+ declares meta.empty_unless 'plan_ndt_enabled', "
                                               r"which is not a boolean var of the project"):
        compile_phase(invoker, key, YEARLY, False)
