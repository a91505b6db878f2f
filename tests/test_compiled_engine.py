"""The compiled engine (docs/compiled_engine.md): dbt's compiled SQL, cached and run straight in DuckDB, writes the
optimized engine's tables byte for byte; a warm cache imports no dbt; a damaged, forged or foreign cache entry is
refused; a failing statement falls back to the optimized engine with the same result."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers.cli import clean_failure, planwise
from helpers.sims import BASELINE_2Y, OTHER_SEED_2Y, SMALL_CENSUS, CensusSpec, SimSpec
from test_ndt_invariants import DESIGN_C

from planwise_core.config import PlanwiseConfig
from planwise_core.engine.cache_auth import MAGIC, read_authenticated, write_authenticated
from planwise_core.engine.compiled.agnostic import CANONICAL_START, compile_vars, span
from planwise_core.engine.compiled.cache import (Entry, Node, ProjectFacts, cache_dir, entry_file, entry_key,
                                                 entry_path, find_entry, fingerprint, load_entry)
from planwise_core.engine.compiled.compiler import CompiledSQLError, compile_phase
from planwise_core.engine.compiled.executor import Tally, run_entry
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.nodes import FOUNDATION, YEAR_START, YEARLY
from planwise_core.engine.project import DBT_PROJECT_DIR, DbtProject
from planwise_core.engine_comparison import compare_engines
from planwise_core.errors import PlanwiseError, SimulationError
from planwise_core.orchestrator import Simulation

pytestmark = pytest.mark.slow

OPTIMIZED = {"orchestration.optimization_level": "high"}
NDT = {"plan.ndt.enabled": True}
GOLDEN_CENSUS = CensusSpec.generated(250, 5)  # the census of tests/test_golden.py
# The compiled runs name no level: max, the compiled engine, is the default (their year logs say so).
GOLDEN_5Y_COMPILED = SimSpec.make(GOLDEN_CENSUS, end_year=2029, **NDT)
GOLDEN_5Y = SimSpec.make(GOLDEN_CENSUS, end_year=2029, **NDT, **OPTIMIZED)
HELD_OUT_COMPILED = DESIGN_C  # test_ndt_invariants' run, on the default engine
HELD_OUT_OPTIMIZED = SimSpec.make(DESIGN_C.census, end_year=DESIGN_C.end_year, **dict(DESIGN_C.overrides), **OPTIMIZED)
BOOKKEEPING = {("main", "planwise_database"), ("main", "planwise_run_log"), ("main", "planwise_year_log"),
               ("raw", "census_load")}  # the run and the census file: ids, paths, times
YEARS = list(range(2025, 2030))


def tables(con) -> set[tuple[str, str]]:
    return {tuple(r) for r in con.execute("select table_schema, table_name from information_schema.tables "
                                          "where table_catalog = current_database()").fetchall()} - BOOKKEEPING


def differences(first: Path, second: Path) -> dict:
    """Every table of two result databases (but the run's bookkeeping): columns and types in order, then rows."""
    con = duckdb.connect()
    con.execute(f"attach '{first}' as a (read_only)")
    con.execute(f"attach '{second}' as b (read_only)")
    con.execute("use a")
    names_a = tables(con)
    con.execute("use b")
    names_b = tables(con)
    found = {"only in one": sorted(names_a ^ names_b)} if names_a != names_b else {}
    for schema, table in sorted(names_a & names_b):
        a, b = f'a."{schema}"."{table}"', f'b."{schema}"."{table}"'
        if con.execute(f"describe {a}").fetchall() != con.execute(f"describe {b}").fetchall():
            found[table] = "columns differ"
            continue
        count = con.execute(f"select (select count(*) from {a}) - (select count(*) from {b}), "
                            f"(select count(*) from (select * from {a} except all select * from {b})), "
                            f"(select count(*) from (select * from {b} except all select * from {a}))").fetchone()
        if any(count):
            found[table] = count
    con.close()
    assert names_a >= {("main", "fct_workforce_snapshot"), ("main", "fct_ndt_employee"), ("raw", "census")}
    return found


def engines_by_year(database: Path) -> list[tuple[int, str]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select simulation_year, plugin from planwise_year_log order by 1").fetchall()


def ndt_rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select count(*) from fct_ndt_employee").fetchone()[0]


@pytest.fixture(scope="module")
def golden(sims):
    sims.prefetch([GOLDEN_5Y_COMPILED, GOLDEN_5Y, HELD_OUT_COMPILED, HELD_OUT_OPTIMIZED])
    optimized, compiled = sims.get(GOLDEN_5Y), sims.get(GOLDEN_5Y_COMPILED)
    assert optimized.result["success"] and compiled.result["success"], (optimized.result, compiled.result)
    return optimized, compiled


def test_compiled_and_optimized_write_identical_tables_on_the_golden_census(golden):
    optimized, compiled = golden
    assert engines_by_year(compiled.database) == [(year, "compiled") for year in YEARS]
    assert engines_by_year(optimized.database) == [(year, "optimized") for year in YEARS]
    assert ndt_rows(compiled.database) > 0  # NDT on: its marts are part of what agrees
    assert differences(compiled.database, optimized.database) == {}


def test_compiled_and_optimized_write_identical_tables_on_a_held_out_census(sims, golden):
    optimized, compiled = sims.get(HELD_OUT_OPTIMIZED), sims.get(HELD_OUT_COMPILED)
    assert compiled.result["success"] and optimized.result["success"], (compiled.result, optimized.result)
    assert engines_by_year(compiled.database) == [(year, "compiled") for year in YEARS]
    assert engines_by_year(optimized.database) == [(year, "optimized") for year in YEARS]
    assert ndt_rows(compiled.database) > 0
    assert differences(compiled.database, optimized.database) == {}


WARM_RUN = """
import json, sys
from pathlib import Path
from planwise_core.config import PlanwiseConfig
from planwise_core.orchestrator import Simulation
overrides, census, database = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
result = Simulation(PlanwiseConfig().with_overrides(**overrides), database, census=census).run().to_dict()
print(json.dumps({"success": result["success"], "error": result["error"],
                  "metrics": result["plugin_metrics"].get("compiled"),
                  "dbt": sorted(m for m in sys.modules if m == "dbt" or m.startswith("dbt.")),
                  "pandas": "pandas" in sys.modules}))
"""


def test_a_warm_run_imports_no_dbt_and_writes_the_same_tables(golden, tmp_path):
    optimized, _ = golden  # the registry's compiled run filled the cache for this configuration
    census = GOLDEN_CENSUS.write(tmp_path)
    proc = subprocess.run([sys.executable, "-c", WARM_RUN, json.dumps(GOLDEN_5Y_COMPILED.all_overrides()),
                           str(census), str(tmp_path / "warm.duckdb")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["success"], report["error"]
    assert report["dbt"] == []
    assert report["pandas"] is False  # no bound parameter on the run's path (database/sql.py inline)
    assert report["metrics"]["phases_compiled"] == 0 and report["metrics"]["dbt_invocations"] == 0
    assert report["metrics"]["parse_seconds"] == 0  # no manifest read: the one-time cost is all in the cache
    # the foundation, then year_start and yearly of the first year and of every later year (one compile each)
    assert report["metrics"]["cache_hits"] == 5
    assert engines_by_year(tmp_path / "warm.duckdb") == [(year, "compiled") for year in YEARS]
    assert differences(tmp_path / "warm.duckdb", optimized.database) == {}


def _key(project: DbtProject, config, phase: str, year: int | None) -> dict:
    dbt_vars = config.to_dbt_vars()
    return entry_key(project, fingerprint(project), phase, compile_vars(dbt_vars, year), span(dbt_vars, year))


def _entry_file(config, phase: str, year: int | None, database: Path) -> Path:
    project = DbtProject(database)
    return entry_file(project, _key(project, config, phase, year))


def _run(config, database: Path, census: Path) -> dict:
    return Simulation(config, database, census=census).run().to_dict()


def test_a_damaged_or_forged_entry_is_refused_and_compiled_again(golden, tmp_path, caplog):
    optimized, _ = golden
    config = GOLDEN_5Y_COMPILED.config()
    damaged = _entry_file(config, "yearly", 2027, tmp_path / "planwise.duckdb")
    forged = _entry_file(config, "year_start", 2028, tmp_path / "planwise.duckdb")
    data = damaged.read_bytes()
    damaged.write_bytes(data[:-40] + bytes([data[-40] ^ 1]) + data[-39:])  # one bit of the SQL flipped
    # a forged entry: the right format, a signature made without this user's key
    forged.write_bytes(MAGIC + b"\0" * 32 + read_authenticated(forged).replace(b"int_workforce_start", b"x"))
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        result = _run(config, tmp_path / "again.duckdb", GOLDEN_CENSUS.write(tmp_path))
    assert result["success"], result["error"]
    refused = [r.getMessage() for r in caplog.records if "no valid signature" in r.getMessage()]
    assert {Path(m.split()[2]).name for m in refused} == {damaged.name, forged.name}
    assert result["plugin_metrics"]["compiled"]["phases_compiled"] == 2  # exactly the two refused phases
    assert load_entry(DbtProject(tmp_path / "planwise.duckdb"), json.loads(read_authenticated(damaged))["key"])
    assert engines_by_year(tmp_path / "again.duckdb") == [(year, "compiled") for year in YEARS]
    assert differences(tmp_path / "again.duckdb", optimized.database) == {}


def break_entry(path: Path, name: str, sql) -> bytes:
    """Replace node ``name``'s SQL (``test``: the entry's first test) in a cache entry (``sql``: the old SQL -> the
    new), signed with this user's key; returns the original bytes."""
    original = path.read_bytes()
    entry = json.loads(read_authenticated(path))
    node = next(n for n in entry["nodes"] if n["name"] == name or name == "test" == n["kind"])
    node["sql"] = sql(node["sql"])
    assert write_authenticated(path, json.dumps(entry).encode(), path.parent)
    return original


def falls_back_from_2026(phase: str, entry_year: int, name: str, sql, tmp_path: Path, optimized: Path) -> dict:
    """The golden configuration (no retries) run with node ``name`` of the ``phase`` entry for ``entry_year`` broken
    (``break_entry``, signed with this user's key: only the statement fails): 2025 runs on compiled, 2026 (the first
    year that reads the broken entry) and every later year on the next rung, optimized, and the tables are the
    optimized run's. Returns the run's result."""
    config = GOLDEN_5Y_COMPILED.config().with_overrides(**{"orchestration.max_retries": 0})
    path = _entry_file(config, phase, entry_year, tmp_path / "planwise.duckdb")
    original = break_entry(path, name, sql)
    try:
        result = _run(config, tmp_path / "fallback.duckdb", GOLDEN_CENSUS.write(tmp_path))
    finally:
        path.write_bytes(original)
    assert result["success"], result["error"]
    assert engines_by_year(tmp_path / "fallback.duckdb") == [(2025, "compiled")] + [
        (year, "optimized") for year in YEARS[1:]]
    assert differences(tmp_path / "fallback.duckdb", optimized) == {}
    return result


def test_a_failing_statement_falls_back_to_optimized_with_the_same_tables(golden, tmp_path):
    optimized, _ = golden
    # the later years' entry (compiled with 2028 as the representative year), used first by 2026
    falls_back_from_2026("yearly", 2028, "int_hires", lambda sql: "select * from a_table_that_does_not_exist",
                         tmp_path, optimized.database)


def test_a_cache_entry_of_another_checkout_is_not_used(golden, tmp_path, caplog):
    config = GOLDEN_5Y_COMPILED.config()
    here = DbtProject(tmp_path / "planwise.duckdb")
    other_dir = tmp_path / "other_checkout" / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, other_dir, ignore=shutil.ignore_patterns("target", "logs"))
    there = DbtProject(tmp_path / "planwise.duckdb", project_dir=other_dir)
    assert fingerprint(there) != fingerprint(here)  # same files, another folder
    assert cache_dir(there, fingerprint(there)) != cache_dir(here, fingerprint(here))
    # Planted where the other checkout looks for the same phase and vars, a signed entry of this checkout is refused.
    ours = entry_file(here, _key(here, config, "yearly", 2026))
    theirs_key = _key(there, config, "yearly", 2026)
    theirs = entry_path(there, theirs_key)
    theirs.parent.mkdir(parents=True)
    assert write_authenticated(theirs, read_authenticated(ours), theirs.parent)
    with caplog.at_level(logging.WARNING, logger="planwise.cache"):
        assert find_entry(there, theirs_key) is None
    assert "compiled for another project, phase or configuration" in caplog.text
    assert find_entry(here, _key(here, config, "yearly", 2026)) is not None


def test_compare_engines_runs_the_compiled_engine_against_optimized(tmp_path):
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": 2025, **NDT})
    events = []
    result = compare_engines(config, tmp_path, census=CensusSpec.generated(120, 3).write(tmp_path),
                             progress=lambda engine, event: events.append((engine, event.stage)),
                             engines=("compiled", "optimized"))
    assert result["engines"] == ["compiled", "optimized"] and set(result["comparisons"]) == {"compiled"}
    assert result["compiled"]["own_engine"] and result["optimized"]["own_engine"]
    assert result["identical"] and all(t["identical"] for t in result["comparisons"]["compiled"].values())
    assert result["tables"]["fct_workforce_snapshot"]["rows_first"] > 100
    assert [e for e in events if e[1] == "year"] == [("compiled", "year"), ("optimized", "year")]
    assert engines_by_year(tmp_path / "compiled.duckdb") == [(2025, "compiled")]


def test_compare_engines_refuses_a_selection_without_optimized(tmp_path):
    with pytest.raises(PlanwiseError, match=r"list optimized and at least one other engine"):
        compare_engines(PlanwiseConfig(), tmp_path, engines=("compiled",))
    proc = planwise("compare-engines", "--engines", "compiled,nope", "--out", tmp_path / "out", cwd=tmp_path)
    clean_failure(proc, 1, "compare-engines compares optimized with one or more of compiled, legacy (got compiled, "
                           "nope)")
    assert not (tmp_path / "out" / "compiled.duckdb").exists()


# -- the executor on hand-made entries: the materializations' and tests' semantics, no dbt ----------------------

def _model(name: str, sql: str, materialized: str = "year_partition") -> Node:
    return Node(name, "model", sql, materialized=materialized, relation=f'"memory"."main"."{name}"',
                schema='"memory"."main"', year_column="simulation_year")


def _check(name: str, sql: str, severity: str = "ERROR") -> Node:
    return Node(name, "test", sql, severity=severity, warn_if="!= 0", error_if="!= 0", fail_calc="count(*)")


def _entry(*nodes: Node) -> Entry:
    return Entry({}, nodes, ProjectFacts((), (), ()))


def test_year_partition_replaces_only_its_year_and_refuses_changed_columns():
    con, tally = duckdb.connect(), Tally()
    for year, amount in ((2025, 1), (2026, 2), (2025, 3)):  # 2025 again: its rows are replaced, 2026's kept
        run_entry(con, _entry(_model("fct_x", f"select {year} as simulation_year, {amount} as amount")), year, tally)
    assert con.execute("select * from fct_x order by 1").fetchall() == [(2025, 3), (2026, 2)]
    changed = _entry(_model("fct_x", "select 2027 as simulation_year, 'a' as amount"))
    with pytest.raises(SimulationError, match=r"^model fct_x changed its columns: .* has amount INTEGER, "
                                              r"simulation_year INTEGER but the model now returns amount VARCHAR"):
        run_entry(con, changed, 2027, tally)
    scratch = _entry(_model("int_y", "select 1 as a", "scratch_table"), _model("int_y", "select 2 as b", "scratch_table"))
    run_entry(con, scratch, 2025, tally)
    assert con.execute("select * from int_y").fetchall() == [(2,)]  # create or replace: the last one stands
    assert tally.statements == 5  # the refused statement is not counted


def test_a_failing_error_test_names_itself_a_warn_test_only_warns_and_a_bad_statement_is_retryable(caplog):
    con, tally = duckdb.connect(), Tally()
    with caplog.at_level(logging.WARNING, logger="planwise.compiled"):
        run_entry(con, _entry(_check("soft_check", "select 1 union all select 2", severity="WARN")), 2025, tally)
    assert "test soft_check: 2 failing rows" in caplog.text
    with pytest.raises(SimulationError, match=r"^test transition_x failed: 1 failing rows"):
        run_entry(con, _entry(_check("transition_x", "select 1")), 2025, tally)
    run_entry(con, _entry(_check("passing", "select 1 where false")), 2025, tally)
    with pytest.raises(CompiledSQLError, match=r"^compiled engine: model fct_z failed: Catalog Error"):
        run_entry(con, _entry(_model("fct_z", "select * from missing_table")), 2025, tally)


# -- year-agnostic compiles (docs/compiled_engine.md "One compile for every later year") ----------------------------

RICH = {**NDT, "plan.ndt.testing_method": "prior_year", "plan.match_response.enabled": True,
        "plan.auto_escalation.enabled": True, "plan.core.enabled": True}  # most of the project's Jinja branches


def _year_sql(invoker, dbt_vars: dict, year: int, representative: int) -> dict[tuple[str, str], str]:
    """Every node of ``year``'s two phases, compiled year-agnostic with ``representative`` as simulation_year."""
    found = {}
    for selector, with_tests in ((YEAR_START, True), (YEARLY, False)):
        key = {"vars": dict(compile_vars(dbt_vars, year), simulation_year=representative)}
        found.update({(selector, n.name): n.sql for n in compile_phase(invoker, key, selector, with_tests).nodes})
    return found


def test_a_later_year_compiles_to_the_same_sql_whatever_the_years_seed_or_census_date(tmp_path):
    """A literal year, seed or census date left in the SQL, or Jinja that treats the second year apart, would make
    the two compiles of a later year differ (representative years start + 1 and start + 2, other start and end years,
    seed and census date); the first year's compile differs from it (its own branches) but not across
    configurations; so does the foundation."""
    config = PlanwiseConfig().with_overrides(**RICH, **{"simulation.start_year": 2030, "simulation.end_year": 2033})
    other = config.with_overrides(random_seed=9, **{"simulation.start_year": 2032, "simulation.end_year": 2036})
    dbt_vars, other_vars = config.to_dbt_vars(), other.to_dbt_vars()
    assert dbt_vars["census_date"] != other_vars["census_date"]
    invoker = InProcessDbt(DbtProject(tmp_path / "planwise.duckdb"), dbt_vars)
    later = _year_sql(invoker, dbt_vars, 2031, CANONICAL_START + 1)
    assert later == _year_sql(invoker, other_vars, 2034, CANONICAL_START + 2)
    first = _year_sql(invoker, dbt_vars, 2030, CANONICAL_START)
    assert first == _year_sql(invoker, other_vars, 2032, CANONICAL_START) and first != later
    assert any("getvariable('simulation_year')" in sql for sql in later.values())
    literals = [str(y) for y in range(2029, 2037)] + [str(CANONICAL_START + 1), "2029-12-31"]
    assert not [(name, y) for name, sql in {**first, **later}.items() for y in literals if y in sql]
    foundation = [[n.sql for n in compile_phase(invoker, {"vars": compile_vars(v, None)}, FOUNDATION, True).nodes]
                  for v in (dbt_vars, other_vars)]
    assert foundation[0] == foundation[1] and any("getvariable('census_date')" in sql for sql in foundation[0])


def test_year_keyed_rates_split_the_later_years_only_where_the_rate_changes():
    config = PlanwiseConfig().with_overrides(**{"simulation.target_growth_rate": {2025: 0.03, 2027: 0.05}})
    dbt_vars = config.to_dbt_vars()
    assert dbt_vars["target_growth_rate"] == {"2025": 0.03, "2026": 0.03, "2027": 0.05, "2028": 0.05, "2029": 0.05}
    by_year = {year: compile_vars(dbt_vars, year) for year in YEARS}
    assert [v["target_growth_rate"] for v in by_year.values()] == [0.03, 0.03, 0.05, 0.05, 0.05]
    assert by_year[2027] == by_year[2028] == by_year[2029] != by_year[2026]
    # the first year and the representative of the later ones, from a stand-in start year
    assert {v["simulation_year"] for v in by_year.values()} == {CANONICAL_START, CANONICAL_START + 1}
    assert {"random_seed", "end_year", "census_date"}.isdisjoint(by_year[2026])
    assert by_year[2026]["start_year"] == CANONICAL_START
    assert by_year[2026]["year_agnostic"] is True and [span(dbt_vars, y) for y in (2025, 2026)] == ["first", "later"]


def test_five_years_compile_five_phases_and_a_run_with_other_years_and_seed_compiles_none(sims, tmp_path):
    """Cold (this configuration's entries removed), 2026-2030: foundation, first year, later years, two phases each
    but the foundation; then 2025-2026 with another seed (so another census date too) reuses all five, and writes
    the same tables as the shared run of that configuration."""
    reference = sims.get(OTHER_SEED_2Y)  # seed 7, 2025-2026, shared with test_config_effects
    cold = BASELINE_2Y.config().with_overrides(**{"simulation.start_year": 2026, "simulation.end_year": 2030})
    project = DbtProject(tmp_path / "planwise.duckdb")
    for phase, year in (("foundation", None), ("year_start", 2026), ("yearly", 2026), ("year_start", 2027),
                        ("yearly", 2027)):
        entry_file(project, _key(project, cold, phase, year)).unlink(missing_ok=True)
    # the entries do not depend on the census: a small one for the cold run, the reference's for the warm one
    result = _run(cold, tmp_path / "planwise.duckdb", CensusSpec.generated(120, 3).write(tmp_path))
    assert result["success"], result["error"]
    assert result["plugin_metrics"]["compiled"]["phases_compiled"] == 5  # 11 with one compile per year
    warm = OTHER_SEED_2Y.config()  # the default level: compiled
    (tmp_path / "warm").mkdir()
    result = _run(warm, tmp_path / "warm" / "planwise.duckdb", SMALL_CENSUS.write(tmp_path))
    assert result["success"], result["error"]
    metrics = result["plugin_metrics"]["compiled"]
    assert (metrics["phases_compiled"], metrics["cache_hits"], metrics["dbt_invocations"]) == (0, 5, 0)
    assert engines_by_year(tmp_path / "warm" / "planwise.duckdb") == [(2025, "compiled"), (2026, "compiled")]
    assert differences(tmp_path / "warm" / "planwise.duckdb", reference.database) == {}
