"""The compiled engine's two lanes (docs/compiled_engine.md, two lanes): the split of a year from the DAG, the tail's
snapshot, failure and interruption, and whole runs where the work run ahead fails, the tail fails, or the process is
killed or interrupted during an overlap: always the tables of the optimized engine."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from helpers.cli import TIMEOUT
from test_compiled_engine import (GOLDEN_5Y, GOLDEN_5Y_COMPILED, GOLDEN_CENSUS, YEARS, _entry_file, _key, _run,
                                  break_entry, differences, engines_by_year, falls_back_from_2026)

from planwise_core.database.checkpoints import StateManager
from planwise_core.engine.compiled.cache import (Entry, Node, cache_dir, cost_name, find_entry, fingerprint, load_costs,
                                                save_costs)
from planwise_core.engine.compiled.compiler import CompiledSQLError
from planwise_core.engine.compiled.lanes import TailLane
from planwise_core.engine.compiled.split import balanced, split_year
from planwise_core.engine.project import DbtProject, parse_cache_dir

pytestmark = pytest.mark.slow
TAIL = {"fct_dc_contributions", "fct_dc_plan_summary", "fct_ndt_employee", "fct_ndt_summary"}


@pytest.fixture(scope="module")
def optimized(sims) -> Path:
    """The golden configuration's tables on the optimized engine (the registry's run), what every run here gives."""
    run = sims.get(GOLDEN_5Y)
    assert run.result["success"], run.result
    return run.database


@pytest.fixture(scope="module")
def private_cache(optimized, tmp_path_factory):
    """This module's own cache (dbt's parse copied, the compiled entries made by a two-year run of the golden
    configuration): its tests alter entries, which the other modules' runs, maybe running meanwhile, must not read."""
    own = tmp_path_factory.mktemp("cache")
    shared = parse_cache_dir() / fingerprint(DbtProject(own / "planwise.duckdb"))
    shutil.copytree(shared, own / "dbt-parse" / shared.name, ignore=shutil.ignore_patterns("compiled"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANWISE_CACHE_DIR", str(own))
        config = GOLDEN_5Y_COMPILED.config().with_overrides(**{"simulation.end_year": 2026})
        result = _run(config, own / "fill.duckdb", GOLDEN_CENSUS.write(own))
        metrics = result["plugin_metrics"]["compiled"]
        assert result["success"] and metrics["phases_compiled"] == 5, result
        assert metrics["overlaps"] == 1 and metrics["overlap_seconds"] > 0  # 2025's tail beside 2026's start
        yield own


def test_no_overlap_with_more_than_one_duckdb_thread_and_the_same_tables(private_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANWISE_DUCKDB_THREADS", "2")  # as DuckDB's default from 500,000 census rows
    config = GOLDEN_5Y_COMPILED.config().with_overrides(**{"simulation.end_year": 2026})
    result = _run(config, tmp_path / "threads.duckdb", GOLDEN_CENSUS.write(tmp_path))
    assert result["success"], result["error"]
    metrics = result["plugin_metrics"]["compiled"]
    assert (metrics["overlaps"], metrics["overlap_seconds"]) == (0, 0)
    assert differences(tmp_path / "threads.duckdb", private_cache / "fill.duckdb") == {}  # one lane = two lanes


def _golden_entry(phase: str, year: int, database: Path) -> Entry:
    project = DbtProject(database)
    entry = find_entry(project, _key(project, GOLDEN_5Y_COMPILED.config(), phase, year))
    assert entry is not None  # the private cache's two-year run compiled it
    return entry


def test_the_split_on_the_real_project_keeps_the_next_years_inputs_in_the_head(private_cache, tmp_path):
    database = tmp_path / "planwise.duckdb"
    for year, yearly in ((2025, _golden_entry("yearly", 2025, database)), (2026, _golden_entry("yearly", 2026, database))):
        start, later = _golden_entry("year_start", year + 1, database), _golden_entry("yearly", year + 1, database)
        split = split_year(yearly, start, later)
        head, tail = {n.name for n in split.head}, {n.name for n in split.tail}
        assert head | tail == {n.name for n in yearly.nodes} and not head & tail
        assert TAIL <= tail and "fct_workforce_snapshot" in head
        # the order is the entry's (DAG) order in each lane
        assert [n.name for n in yearly.nodes if n.name in head] == [n.name for n in split.head]
        # no statement of the next year's start or head names a tail table, nor does the year's own head
        next_head = [n for n in later.nodes if n.name in head] + list(start.nodes) + list(split.head)
        for node in next_head:
            words = set(re.findall(r"\w+", node.sql))
            assert not words & tail, (node.name, words & tail)


def _costs(entries, heavy: dict[str, float]) -> dict[str, list[float]]:
    """Seconds by cost name for every node of ``entries``: 1 s each, ``heavy``'s models their own."""
    return {cost_name(node): [heavy.get(node.name, 1.0)] for entry in entries for node in entry.nodes}


def test_the_balance_moves_the_tails_first_models_into_the_head_only_when_that_shortens_the_longer_lane(
        private_cache, tmp_path):
    database = tmp_path / "planwise.duckdb"
    entries = (_golden_entry("yearly", 2025, database), _golden_entry("year_start", 2026, database),
               _golden_entry("yearly", 2026, database))
    default = split_year(*entries)

    def lanes(seeds, seconds):
        split = split_year(*entries, seeds=seeds)
        main = sum(seconds[cost_name(n)][0] for n in (*entries[1].nodes, *split.head))
        return split, max(main, sum(seconds[cost_name(n)][0] for n in split.tail))

    # the tail's money and NDT marts much longer than the next year's start and head
    heavy = _costs(entries, {"fct_yearly_events": 5.0, "fct_dc_contributions": 20.0, "fct_ndt_employee": 10.0})
    seeds = balanced(*entries, cost=lambda node: heavy[cost_name(node)][0])
    split, longer = lanes(seeds, heavy)
    assert seeds and "fct_yearly_events" in {n.name for n in split.head} - {n.name for n in default.head}
    assert TAIL <= {n.name for n in split.tail} and longer < 0.95 * lanes((), heavy)[1]
    # no prefix of the tail does better (what balanced() promises)
    assert all(lanes(tuple(n.name for n in default.tail[:k]), heavy)[1] >= longer for k in range(len(default.tail) + 1))
    # the main lane already the longer (every node 1 s), or a cost unknown: nothing moves
    even = _costs(entries, {})
    assert balanced(*entries, cost=lambda node: even[cost_name(node)][0]) == ()
    assert balanced(*entries, cost=lambda node: None if node.name == "fct_year_summary" else 1.0) == ()


def test_recorded_node_costs_balance_a_run_and_its_tables_stay_the_same(private_cache, tmp_path):
    """The fill run recorded its nodes' costs; costs that make the tail the longer lane move models into the head
    for the whole run (2025 and 2026), with the tables of the run split the default way."""
    database = tmp_path / "planwise.duckdb"
    project = DbtProject(database)
    rows = GOLDEN_CENSUS.employees  # the rows of the census the fill run recorded its costs with
    recorded = load_costs(project, fingerprint(project), rows)
    entries = (_golden_entry("yearly", 2025, database), _golden_entry("year_start", 2026, database))
    assert {cost_name(n) for entry in entries for n in entry.nodes} <= set(recorded)
    # costs recorded on a census of half to twice the rows only: a small census's are mostly planning
    assert load_costs(project, fingerprint(project), 2 * rows) == recorded
    assert load_costs(project, fingerprint(project), 2 * rows + 1) == {} == load_costs(project, fingerprint(project),
                                                                                    rows // 2 - 1)
    path = cache_dir(project, fingerprint(project)) / "node-costs.json.signed"
    original = path.read_bytes()
    save_costs(project, fingerprint(project), _costs(entries, {"fct_yearly_events": 5.0, "fct_dc_contributions": 20.0}),
               rows=rows)
    try:
        config = GOLDEN_5Y_COMPILED.config().with_overrides(**{"simulation.end_year": 2026})
        result = _run(config, tmp_path / "balanced.duckdb", GOLDEN_CENSUS.write(tmp_path))
    finally:
        path.write_bytes(original)  # the module's other runs split as recorded by the fill run
    metrics = result["plugin_metrics"]["compiled"]
    assert result["success"] and metrics["moved_to_head"] >= 1 and metrics["overlaps"] == 1, result
    assert differences(tmp_path / "balanced.duckdb", private_cache / "fill.duckdb") == {}


def _lane_database(tmp_path: Path) -> tuple[Path, duckdb.DuckDBPyConnection]:
    database = tmp_path / "lanes.duckdb"
    keeper = duckdb.connect(str(database))  # the engine's Keeper: the lane shares its instance
    keeper.execute("set threads = 1")
    keeper.execute("create table scratch as select 1 as v")
    keeper.execute("create table events as select 2025 as simulation_year, 10 as v")
    keeper.execute("create table money as select 2024 as simulation_year, 0 as v")
    return database, keeper


def _money(sql: str) -> Node:
    return Node("money", "model", sql, materialized="year_partition", relation='"lanes"."main"."money"',
                schema='"lanes"."main"', year_column="simulation_year")


def test_the_tail_reads_the_head_as_it_was_when_it_started_and_commits_once(tmp_path):
    database, keeper = _lane_database(tmp_path)
    sql = ("select 2025 as simulation_year, cast((select sum(v) from scratch) * 100 + "
           "(select count(*) from events) as integer) as v")
    lane = TailLane(database, (_money(sql),), 2025, {}, pin="events")
    # the other lane writes the next year before the tail's first statement: the tail must not see it
    keeper.execute("create or replace table scratch as select 7 as v")
    keeper.execute("insert into events values (2026, 20)")
    lane.start().finish()
    assert keeper.execute("select * from money order by 1").fetchall() == [(2024, 0), (2025, 101)]
    assert not any(t.name.startswith("planwise-tail") for t in threading.enumerate())
    keeper.close()


def test_a_failing_tail_commits_nothing_and_raises_in_the_caller(tmp_path):
    database, keeper = _lane_database(tmp_path)
    nodes = (_money("select 2025 as simulation_year, 5 as v"),
             Node("broken", "model", "select * from no_such_table", materialized="scratch_table",
                  relation='"lanes"."main"."broken"', schema='"lanes"."main"'))
    lane = TailLane(database, nodes, 2025, {}, pin="events").start()
    with pytest.raises(CompiledSQLError, match="model broken failed"):
        lane.finish()
    assert keeper.execute("select * from money").fetchall() == [(2024, 0)]  # the first model rolled back too
    keeper.close()


def test_stop_interrupts_a_running_tail_and_waits_for_its_thread(tmp_path):
    database, keeper = _lane_database(tmp_path)
    slow = "select 2025 as simulation_year, cast(count(*) as integer) as v from range(100000) a, range(100000) b"
    lane = TailLane(database, (_money(slow),), 2025, {}, pin="events").start()
    time.sleep(0.3)
    started = time.perf_counter()
    lane.stop()
    assert time.perf_counter() - started < 10
    assert lane.done.is_set() and not lane._thread.is_alive() and lane.error is not None
    assert keeper.execute("select * from money").fetchall() == [(2024, 0)]
    keeper.close()


# (phase of the later years' entry, node, what the run shows): the transition to 2026 run ahead fails (a transition
# check made to fail), or 2026's tail fails (its NDT summary) after the start of 2027 was run ahead
FAILURES = {
    "transition run ahead": ("year_start", "test", lambda sql: "select 1 as failing_row"),
    "tail": ("yearly", "fct_ndt_summary", lambda sql: "select * from a_table_that_does_not_exist"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failure_beside_an_overlap_falls_back_to_optimized_with_the_same_tables(optimized, private_cache,
                                                                                 tmp_path, case):
    phase, name, sql = FAILURES[case]
    result = falls_back_from_2026(phase, 2026, name, sql, tmp_path, optimized)
    assert result["plugin_metrics"]["compiled"]["overlaps"] == 1  # 2025's tail beside 2026's start


RUN = """
import json, logging, sys, threading
from pathlib import Path
from planwise_core.config import PlanwiseConfig
from planwise_core.monitoring.logs import setup_logging
from planwise_core.orchestrator import Simulation
setup_logging(structured=True)
overrides, census, database, resume = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4] == "1"
try:
    result = Simulation(PlanwiseConfig().with_overrides(**overrides), database,
                        census=None if resume else Path(census)).run(resume=resume).to_dict()
    print(json.dumps({"success": result["success"], "error": result["error"], "resumed": result["resumed_years"]}))
except KeyboardInterrupt:
    print(json.dumps({"interrupted": True, "threads": [t.name for t in threading.enumerate()]}))
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_a_run_stopped_during_an_overlap_resumes_to_the_same_tables(optimized, private_cache, tmp_path, sig):
    """2025's tail is made slow (the same rows, a long scan first): the signal lands while it runs beside the start
    of 2026; the resume gives the uninterrupted tables."""
    config, database = GOLDEN_5Y_COMPILED, tmp_path / "stopped.duckdb"
    path = _entry_file(config.config(), "yearly", 2025, tmp_path / "planwise.duckdb")  # the build's catalog
    slow = "select * from (\n{}\n) where (select sum(hash(range)) from range(400000000)) is not null"
    original = break_entry(path, "fct_ndt_summary", slow.format)
    args = [sys.executable, "-c", RUN, json.dumps(config.all_overrides()), str(GOLDEN_CENSUS.write(tmp_path)),
            str(database)]
    try:
        proc = subprocess.Popen([*args, "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if '"compiled_tail_started"' in line and '"year": 2025' in line:
                break
        time.sleep(1.0)
        proc.send_signal(sig)
        stdout, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        path.write_bytes(original)
    assert StateManager.for_database(database).completed_years() == []  # 2025 never finished
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert json.loads(stdout.strip().splitlines()[-1]) == {"interrupted": True, "threads": ["MainThread"]}
    resumed = subprocess.run([*args, "1"], capture_output=True, text=True, timeout=TIMEOUT)
    report = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert report["success"], (report, resumed.stderr[-2000:])
    assert engines_by_year(database) == [(year, "compiled") for year in YEARS]
    assert differences(database, optimized) == {}
