"""The SQL floor: a run's yearly SQL, compiled by dbt for each year, executed straight in DuckDB without dbt.

It replays the years on a copy of the finished database with every year partition emptied, so each year reads
what the run's own year read. Scratch models become CREATE OR REPLACE TABLE, year-partitioned ones an INSERT
BY NAME (what the materializations do, minus their checks); ephemeral models are inside their readers' SQL.
Only the execution is timed; dbt compiles each year's SQL beforehand.

The other floor, the same yearly work written straight in plain DuckDB without dbt (workforce + money), is
``money_floor`` (bench/floor_money.py, re-exported here); `make bench` runs it beside every case.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb

from planwise_core.config import load_config
from planwise_core.database.workspace import Workspace
from planwise_core.engine.invokers import _forget_injected_ctes
from planwise_core.engine.nodes import YEAR_START, YEARLY, selected_models, year_partitioned_models
from planwise_core.engine.project import DbtProject, parsed_manifest

from floor_money import money_floor  # noqa: F401,E402 - bench/ is on sys.path when run as a script


def sql_floor(database: Path, config_path: Path, years: list[int], threads: int = 2) -> tuple[dict[int, float], dict[str, float]]:
    """Seconds of SQL per year (years in order, from the first simulated year) on a copy of ``database``,
    and per model summed over the years."""
    floor_dir = database.parent / f"floor_{database.stem}"
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_dir.mkdir()
    # The build's file name: the compiled SQL names the catalog after the file the run built.
    copy = floor_dir / Workspace(database).build.name
    shutil.copy(database, copy)
    project = DbtProject(copy, threads=threads)
    partitioned = set(year_partitioned_models(project))
    models = [*selected_models(project, YEAR_START), *selected_models(project, YEARLY)]
    dbt_vars = load_config(config_path).to_dbt_vars()
    with duckdb.connect(str(copy)) as con:
        for table in partitioned:
            con.execute(f'delete from "{table}" where simulation_year >= ?', [years[0]])
    seconds, per_model = {}, {}
    try:
        for year in years:
            sql = compile_year(project, dict(dbt_vars, simulation_year=year))
            missing = set(models) - set(sql)
            if missing:
                raise SystemExit(f"dbt compiled no SQL for {sorted(missing)}")
            con = duckdb.connect(str(copy), config={"threads": threads})
            started = time.perf_counter()
            for model in models:
                tick = time.perf_counter()
                if model in partitioned:
                    con.execute(f'insert into "{model}" by name ({sql[model]})')
                else:
                    con.execute(f'create or replace table "{model}" as ({sql[model]})')
                per_model[model] = per_model.get(model, 0.0) + time.perf_counter() - tick
            con.close()  # the checkpoint on close is part of the floor: the run's data reaches the file too
            seconds[year] = time.perf_counter() - started
    finally:
        shutil.rmtree(floor_dir, ignore_errors=True)
    return seconds, per_model


def compile_year(project: DbtProject, dbt_vars: dict) -> dict[str, str]:
    """The compiled SQL of the year's models, by name, from one dbt compile (ephemeral models inlined)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    os.environ.update(project.env())
    manifest = parsed_manifest(project)
    _forget_injected_ctes(manifest)  # as the in-process engine does before every invocation
    result = dbtRunner(manifest=manifest).invoke(
        ["compile", *project.common_args(), "--vars", json.dumps(dbt_vars), "--select", "tag:yearly",
         "--exclude", "resource_type:test", "resource_type:unit_test", "--log-level", "none"])
    DuckDBConnectionManager.close_all_connections()  # dbt-duckdb keeps the file open otherwise
    if not result.success:
        raise SystemExit(f"dbt compile failed: {result.exception}")
    return {r.node.name: r.node.compiled_code for r in result.result.results if r.node.resource_type == "model"}
