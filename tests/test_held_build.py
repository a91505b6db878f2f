"""The build held open across the years (planwise_core/bookkeeping.py) and the run's literal SQL (database/sql.py):
a kill after a logged year loses nothing, an observed engine is never held, and literals bind like parameters."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from decimal import Decimal

import duckdb
import pytest

from helpers.common import compare_outputs
from helpers.sims import BASELINE_2Y
from planwise_core import hookimpl
from planwise_core.database.connection import Keeper
from planwise_core.database.sql import inline, value
from planwise_core.database.workspace import Workspace
from planwise_core.hooks import Hooks
from planwise_core.manager import get_plugin_manager
from planwise_core.orchestrator import Simulation
from planwise_core.outputs.compare import all_identical

# Killed on the first YearDone event: 2025 is recorded (checkpoint file, year log, DuckDB checkpoint) and the
# build is still held by this process for 2026. Prints whether a read-only open was refused (the file is held).
KILLED_AFTER_FIRST_YEAR = """
import json, os, signal, sys
from pathlib import Path
import duckdb
from planwise_core.config import PlanwiseConfig
from planwise_core.events import YearDone
from planwise_core.orchestrator import Simulation
overrides, census, database = json.loads(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
sim = Simulation(PlanwiseConfig().with_overrides(**overrides), database, census=census)
def progress(event):
    if isinstance(event, YearDone):
        try:
            duckdb.connect(str(sim.workspace.build), read_only=True).close()
            held = False
        except duckdb.Error:
            held = True
        print(json.dumps({"year": event.result.year, "held": held}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
sim.progress = progress
sim.run()
"""


@pytest.mark.slow
def test_a_run_killed_after_a_logged_year_resumes_to_the_same_tables(sims, tmp_path):
    reference = sims.get(BASELINE_2Y)
    census, database = BASELINE_2Y.census.write(tmp_path), tmp_path / "killed.duckdb"
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_FIRST_YEAR, json.dumps(BASELINE_2Y.all_overrides()),
                           str(census), str(database)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"year": 2025, "held": True}
    build = Workspace(database).build
    # the year was checkpointed into the file before the kill: no write-ahead log is left to replay
    wal = build.with_name(build.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with duckdb.connect(str(database), read_only=True) as con:  # nothing published: only the run log's row
        assert con.execute("select status from planwise_run_log").fetchall() == [("running",)]
        assert con.execute("select count(*) from information_schema.tables "
                           "where table_name = 'fct_workforce_snapshot'").fetchone()[0] == 0

    result = Simulation(BASELINE_2Y.config(), database, census=census).run(resume=True).to_dict()
    assert result["success"], result["error"]
    assert result["resumed_years"] == [2025] and result["completed_years"] == [2025, 2026]
    assert all_identical(compare_outputs(reference.database, database))
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from information_schema.tables "
                           "where table_name = 'planwise_build'").fetchone()[0] == 0


class Observer:
    """A plugin that takes part in an engine hook (as docs/plugins.md's year-end reader does)."""

    @hookimpl(wrapper=True)
    def process_year(self, ctx, year):
        return (yield)


def test_the_build_is_held_only_for_an_in_process_engine_nobody_observes():
    pm = get_plugin_manager(load_entrypoints=False)
    assert Hooks(pm, "compiled").holds_build()
    assert not Hooks(pm, "legacy").holds_build()  # a dbt subprocess needs the file free
    pm.register(Observer(), name="observer")
    assert not Hooks(pm, "compiled").holds_build()  # the observer may open the build read-only


BOUND_AND_LITERAL = [None, True, False, 0, -7, 2**40, 0.035, 1e-300, -2.5e10, float("inf"),
                     Decimal("10000000000.00"), Decimal("0.0350"), Decimal("-1.5"), Decimal("7"), Decimal("0.05"),
                     "it's ?", "", "$cd", dt.date(2024, 2, 29), dt.datetime(2024, 1, 2, 3, 4, 5, 6),
                     ["a", "b'c"], [1, 2]]


@pytest.mark.parametrize("item", BOUND_AND_LITERAL, ids=repr)
def test_a_literal_has_the_value_and_type_of_the_bound_parameter(item):
    con = duckdb.connect()
    bound = con.execute("select ?, typeof(?)", [item, item]).fetchone()
    written = con.execute(f"select {value(item)}, typeof({value(item)})").fetchone()
    assert repr(written[0]) == repr(bound[0])  # 0.035 stays the same double, a Decimal keeps its digits
    if isinstance(item, Decimal):  # the scale as bound; the width may be smaller (DuckDB adds a digit at times)
        assert written[1].split(",")[1] == bound[1].split(",")[1]
    else:
        assert written[1] == bound[1]


def test_a_decimal_with_a_positive_exponent_keeps_its_value():
    # DuckDB 1.4 binds Decimal("1E+3") as 1.000; the literal says 1000
    assert duckdb.connect().execute(f"select {value(Decimal('1E+3'))}").fetchone()[0] == 1000


def test_inline_fills_marks_outside_quotes_only():
    sql = inline("""select '?', "a?", ?, $x from t where s = ? and d = $d""", [1, "o'k"])
    assert sql == """select '?', "a?", 1, $x from t where s = 'o''k' and d = $d"""
    named = inline("select $cd, '$cd', $cd + 1", {"cd": dt.date(2025, 1, 1)})
    assert named == "select DATE '2025-01-01', '$cd', DATE '2025-01-01' + 1"
    with pytest.raises(ValueError):
        inline("select ?", [1, 2])
    with pytest.raises(ValueError):
        inline("select ?, ?", [1])


def test_a_held_build_leaves_no_transaction_open_so_checkpoints_go_through(tmp_path):
    """The keeper reads the census size (for DuckDB's threads) on the connection it keeps for the whole run: a
    result left unread there keeps a transaction open, and every later checkpoint of the build then fails or, when
    DuckDB checkpoints on its own at a commit, waits for ever (a 1M-row run hung in its first year). A census of
    several row groups, read on two threads, is what left the count's result pending."""
    database = tmp_path / "sim.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.census as select range as employee_id from range(600000)")  # >= 500K: 2 threads
    keeper = Keeper(database)
    keeper.hold(True)
    try:
        with duckdb.connect(str(database)) as con:  # the same instance, as every connection of the run
            con.execute("create table written as select 1 as x")
            con.execute("checkpoint")  # raised "other write transactions active" while the count was pending
    finally:
        keeper.close()
