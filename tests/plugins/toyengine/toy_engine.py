"""An engine without dbt: each year's snapshot is the census, one row per employee.

The first attempt of every year writes half its rows and raises, so the host must roll the year back
(``discard_years``) and retry it. Selected by name only (it serves no optimization level).
"""

import contextlib
import os
import time

import duckdb

from planwise_core import hookimpl
from planwise_core.engines import EngineSpec
from planwise_core.results import FoundationResult, PluginMetrics, TransitionResult, YearResult

NAME = os.environ.get("PLANWISE_TOY_ENGINE_NAME", "toy")  # a test names it like a built-in engine
TABLE = "fct_workforce_snapshot"  # the host checkpoints each year's snapshot from this table


class ToyEngine:
    name = NAME

    def check(self, config):
        return []

    def advice(self, config):
        return ["a toy: its snapshot is the census"]

    def year_tables(self, ctx):
        return (TABLE,)

    def discard_years(self, ctx, first, last=None):
        with duckdb.connect(str(ctx.database)) as con:
            con.execute(f"create table if not exists {TABLE} (simulation_year integer, employee_id varchar)")
            con.execute(f"delete from {TABLE} where simulation_year between ? and ?", [first, last or first])

    def own_relations(self, ctx):
        return {TABLE}

    def lock(self):
        return contextlib.nullcontext()

    @hookimpl
    def foundation_setup(self, ctx):
        if os.environ.get("PLANWISE_TOY_FOUNDATION_FAILS"):
            raise RuntimeError("toy engine: the foundation fails")
        with duckdb.connect(str(ctx.database)) as con:
            con.execute(f"create or replace table {TABLE} (simulation_year integer, employee_id varchar)")
            rows = con.execute("select count(*) from raw.census").fetchone()[0]
        return FoundationResult(NAME, (), 0.0, rows)

    @hookimpl
    def process_year(self, ctx, year):
        started = time.perf_counter()
        attempts = ctx.engine_state.setdefault(NAME, {})
        attempts[year] = attempts.get(year, 0) + 1
        with duckdb.connect(str(ctx.database)) as con:
            if attempts[year] == 1:  # half the rows, then a failure: the host must discard them
                con.execute(f"insert into {TABLE} select ?, employee_id from raw.census limit 3", [year])
                raise RuntimeError(f"toy engine: first attempt of {year} fails")
            con.execute(f"insert into {TABLE} select ?, employee_id from raw.census", [year])
            rows = con.execute(f"select count(*) from {TABLE} where simulation_year = ?", [year]).fetchone()[0]
        return YearResult(year, NAME, (), time.perf_counter() - started, rows)

    @hookimpl
    def transition_year(self, ctx, from_year, to_year):
        with duckdb.connect(str(ctx.database)) as con:
            carried = con.execute(f"select count(*) from {TABLE} where simulation_year = ?", [from_year]).fetchone()[0]
        return TransitionResult(from_year, to_year, carried)

    @hookimpl
    def collect_metrics(self, ctx):
        return PluginMetrics(NAME, {"attempts": {str(y): n for y, n in ctx.engine_state.get(NAME, {}).items()}})


ENGINE = ToyEngine()


@hookimpl
def planwise_engines():
    yield EngineSpec(NAME, ENGINE)
