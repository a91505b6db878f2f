"""``batch.duckdb``: the results of every run of a batch, gathered from the runs' own databases.

Each run's database is opened read-only; the batch database is rebuilt from scratch at the end of
every batch (completed runs from earlier invocations included) into a temporary file that then
replaces the old one, so a reader never sees half a batch. Tables (docs/outputs.md, "Batch outputs"):

* ``batch_runs``            one row per planned run: status, error, timings, where its database is;
* ``batch_run_years``       per run and year: the run's keys, then every column of its ``fct_year_summary``
                            (outputs/metrics.py) and the NDT results;
* ``batch_scenario_summary`` per scenario and year: the mean of each metric over the scenario's runs;
* ``batch_bands``           per scenario, year and metric: runs, mean, min, P10, P50, P90, max;
* ``batch_scenarios``       one row per scenario of the file: its position, description and overrides.

Percentiles are ``quantile_cont``: linear interpolation between order statistics, the position of
quantile q among n sorted values being q * (n - 1) (numpy's default, Excel's PERCENTILE.INC).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from pathlib import Path

import duckdb

from planwise_core.database.sql import open_read_only
from planwise_core.outputs.metrics import BAND_METRICS, COUNT, METRICS
from planwise_core.outputs.summary import ndt_year_lines, year_summary

BATCH_DATABASE = "batch.duckdb"

DDL = """
create or replace table batch_info (
    batch_id varchar, kind varchar, source varchar, output varchar, created_at timestamp,
    planned_runs integer, completed_runs integer, failed_runs integer, invalid_runs integer);
create or replace table batch_runs (
    run_id varchar, scenario varchar, seed bigint, status varchar, error varchar, seconds double,
    completed_years integer, failed_years varchar, reused boolean, worker varchar, database varchar,
    overrides_json varchar, finished_at timestamp);
create or replace table batch_scenarios (
    scenario varchar, position integer, description varchar, overrides_json varchar, replaced_tables varchar[]);
"""

# batch_run_years: the run's keys, fct_year_summary's columns (typed by their unit: counts bigint, money and
# fractions double), then the NDT results of the year (docs/ndt.md; null when NDT was off).
RUN_KEYS = (("run_id", "varchar"), ("scenario", "varchar"), ("seed", "bigint"), ("simulation_year", "integer"))
NDT_COLUMNS = (("ndt_adp", "varchar"), ("ndt_acp", "varchar"), ("ndt_top_heavy", "varchar"),
               ("ndt_total_correction", "decimal(18, 2)"))
YEAR_COLUMNS = RUN_KEYS + tuple((m.key, "bigint" if m.unit == COUNT else "double") for m in METRICS) + NDT_COLUMNS


def derived_sql() -> str:
    """The scenario means and the percentile bands of every metric of BAND_METRICS, from batch_run_years."""
    means = ", ".join(f"avg({m}) as {m}" for m in BAND_METRICS)
    doubles = ", ".join(f"{m}::double as {m}" for m in BAND_METRICS)
    return f"""
create or replace table batch_scenario_summary as
select scenario, simulation_year, count(*)::integer as runs, {means}
from batch_run_years group by all order by scenario, simulation_year;

create or replace table batch_bands as
with long as (
    unpivot (select scenario, simulation_year, {doubles} from batch_run_years)
    on {", ".join(BAND_METRICS)}
    into name metric value value
)
select scenario, simulation_year, metric, count(value)::integer as runs, avg(value) as mean, min(value) as min,
       quantile_cont(value, 0.1) as p10, quantile_cont(value, 0.5) as p50, quantile_cont(value, 0.9) as p90,
       max(value) as max
from long group by all order by scenario, metric, simulation_year;
"""


RUN_COLUMNS = ("run_id", "scenario", "seed", "status", "error", "seconds", "completed_years", "failed_years",
               "reused", "worker", "database", "overrides_json", "finished_at")


def run_year_rows(database: Path, first_year: int, last_year: int) -> list[dict]:
    """Every column of one run's ``fct_year_summary`` rows, as they are, with the year's NDT results; read from
    its database opened read-only."""
    with contextlib.closing(open_read_only(database, "the run wrote no database")) as con:
        rows = year_summary(con, first_year, last_year)
        ndt = {line["year"]: line for line in ndt_year_lines(con)}  # docs/ndt.md: null when NDT was off
    return [{**r, **_ndt_columns(ndt.get(r["simulation_year"]))} for r in rows]


def write_batch_database(path: Path, info: dict, runs: list[dict], years: list[dict],
                         scenarios: list[dict] = ()) -> Path:
    """Replace ``path`` with the batch tables; ``runs`` rows carry RUN_COLUMNS, ``years`` rows the run-year columns,
    ``scenarios`` rows scenario, position, description and overrides (a mapping)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(DDL)
        con.execute("insert into batch_info values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            info["batch_id"], info["kind"], info["source"], info["output"], dt.datetime.now(),
            len(runs), sum(r["status"] == "completed" for r in runs), sum(r["status"] == "failed" for r in runs),
            sum(r["status"] == "invalid" for r in runs)])
        if runs:
            con.executemany(f"insert into batch_runs ({', '.join(RUN_COLUMNS)}) values ({', '.join('?' * len(RUN_COLUMNS))})",
                            [[_cell(c, r.get(c)) for c in RUN_COLUMNS] for r in runs])
        columns = [name for name, _ in YEAR_COLUMNS]
        con.execute(f"create table batch_run_years ({', '.join(f'{n} {t}' for n, t in YEAR_COLUMNS)})")
        if years:
            con.executemany(f"insert into batch_run_years values ({', '.join('?' * len(columns))})",
                            [[y.get(c) for c in columns] for y in years])
        if scenarios:
            con.executemany("insert into batch_scenarios values (?, ?, ?, ?, ?)",
                            [[sc["scenario"], sc["position"], sc.get("description") or "",
                              json.dumps(sc.get("overrides") or {}, default=str),
                              list(sc.get("replaced_tables") or ())] for sc in scenarios])
        con.execute(derived_sql())
        con.execute("checkpoint")
    finally:
        con.close()
    path.with_name(path.name + ".wal").unlink(missing_ok=True)  # a crashed writer's log must not replay
    os.replace(tmp, path)
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return path


def _ndt_columns(line: dict | None) -> dict:
    if line is None:
        return {"ndt_adp": None, "ndt_acp": None, "ndt_top_heavy": None, "ndt_total_correction": None}
    return {"ndt_adp": line.get("adp"), "ndt_acp": line.get("acp"), "ndt_top_heavy": line.get("top_heavy"),
            "ndt_total_correction": line["total_correction"]}


def _cell(column: str, value):
    """Run records hold year lists; the table holds the number of completed years and the failed ones as JSON."""
    if column == "completed_years" and isinstance(value, (list, tuple)):
        return len(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True)
    return value
