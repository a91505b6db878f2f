"""End-to-end benchmarks through the CLI: wall time, peak RSS, dbt invocations, rows/s, dbt overhead vs SQL floor.

Usage: python bench/run_bench.py [--sizes 10000,100000] [--legacy-max 10000] [--years 5] [--cold]
                                  [--plan default] [--out bench/results]
--plan takes a comma-separated list of plan cases: default (the shipped configuration: the default match),
on (match, core and auto-escalation all on) and off (plan.enabled: false, no money layer); each optimized case
runs once per plan case, so `--plan on,off` measures what the money layer costs.
Each case runs `planwise run` in a fresh process (import and parse included; --cold empties the shared
dbt parse cache first, otherwise a case starts from the partial parse the previous one left) and samples
the RSS of its whole process tree every 50 ms. The SQL floor re-runs the compiled SQL of the last simulated year straight
in DuckDB on a copy of the database.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil

from planwise_core.engine.nodes import YEAR_START, YEARLY, selected_models
from planwise_core.database.workspace import Workspace
from planwise_core.engine.project import DbtProject, parsed_manifest

BIN = Path(sys.executable).parent


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(args: list[str], env: dict | None = None, interval: float = 0.05) -> tuple[dict, float, int]:
    """Run a command that prints JSON; its parsed output, wall seconds and the peak RSS of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(interval)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"benchmark failed: {' '.join(args[1:3])}: {err[-3000:]}")
    return json.loads(out), wall, peak


PLAN_CASES = {
    "default": {},
    "on": {"plan": {"core": {"enabled": True, "graded_by": "service",
                             "bands": [{"min": 0, "max": 5, "rate": 0.02}, {"min": 5, "max": None, "rate": 0.04}]},
                    "auto_escalation": {"enabled": True}}},
    "off": {"plan": {"enabled": False}},
}


def plan_config(out: Path, case: str) -> Path:
    """The shipped configuration with the plan case's changes, written beside the results."""
    import yaml

    from planwise_core.config import DEFAULT_CONFIG_PATH, config_from_dict

    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    for section, changes in PLAN_CASES[case].items():
        data[section] = _merged(data.get(section, {}), changes)
    config_from_dict(data)  # refuse a bench configuration that would not validate
    path = out / f"plan_{case}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _merged(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = _merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def run_case(census: Path, database: Path, optimization: str, years: int, env: dict | None = None,
             config: Path | None = None) -> dict:
    args = [str(BIN / "planwise"), *(["--config", str(config)] if config else []), "run", "--census", str(census),
            "--database", str(database), "--json",
            "--performance-mode", "--optimization", optimization, "--start-year", "2025",
            "--end-year", str(2024 + years)]
    result, wall, peak = measure(args, env)
    rows = sum(y["rows"] for y in result["years"].values())
    metrics = next(iter(result["plugin_metrics"].values()))
    return {"wall_s": wall, "peak_rss_mb": peak / 2**20, "dbt_invocations": metrics["dbt_invocations"],
            "dbt_seconds": metrics["dbt_seconds"], "rows": rows, "rows_per_s": rows / wall, "result": result}


def sql_floor(database: Path, last_year: int) -> float:
    """Seconds to run the last year's compiled yearly SQL directly in DuckDB (no dbt)."""
    # The build's file name in another folder: the compiled SQL names the catalog after the file.
    project = DbtProject(Workspace(database).build)
    floor_dir = database.parent / "floor"
    floor_dir.mkdir(exist_ok=True)
    copy = floor_dir / project.database.name
    shutil.copy(database, copy)
    compiled = project.work_dir / "target" / "compiled" / "planwise" / "models"
    models = [*selected_models(project, YEAR_START), *selected_models(project, YEARLY)]
    incremental = {n.name for n in parsed_manifest(project).nodes.values()
                   if n.resource_type == "model" and n.config.materialized == "incremental"}
    con = duckdb.connect(str(copy))
    for table in incremental:
        con.execute(f'delete from "{table}" where simulation_year = ?', [last_year])
    started = time.perf_counter()
    for model in models:
        sql = Path(glob.glob(f"{compiled}/**/{model}.sql", recursive=True)[0]).read_text()
        if model in incremental:
            con.execute(f'insert into "{model}" {sql}')
        else:
            con.execute(f'create or replace table "{model}" as {sql}')
    seconds = time.perf_counter() - started
    con.close()
    copy.unlink()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--legacy-max", type=int, default=10000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--out", default="bench/results")
    parser.add_argument("--cold", action="store_true", help="empty the shared dbt parse cache before each case")
    parser.add_argument("--plan", default="default", help="plan cases, comma-separated: default, on, off")
    opts = parser.parse_args()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "parse-cache"
    env = dict(os.environ, PLANWISE_CACHE_DIR=str(cache))
    rows = []
    for size in [int(s) for s in opts.sizes.split(",")]:
        census = out / f"census_{size}.parquet"
        if not census.exists():
            subprocess.run([str(BIN / "planwise"), "census", "generate", "--employees", str(size), "--seed", "1",
                            "--out", str(census)], check=True, capture_output=True)
        plans = opts.plan.split(",")
        engines = [("optimized", "high", plan) for plan in plans]
        engines += [("legacy", "fallback", plans[0])] if size <= opts.legacy_max else []
        for engine, level, plan in engines:
            database = out / f"{engine}_{size}_plan_{plan}.duckdb"
            for stale in out.glob(f"{database.name}*"):
                stale.unlink()
            if opts.cold:
                shutil.rmtree(cache, ignore_errors=True)
            case = run_case(census, database, level, opts.years, env, plan_config(out, plan))
            last = 2024 + opts.years
            year_dbt = case["result"]["years"][str(last)]["seconds"]
            floor = sql_floor(database, last) if engine == "optimized" else None
            foundation = case["result"]["performance_metrics"].get("foundation_seconds", 0.0)
            rows.append({"employees": size, "engine": engine, "plan": plan, "years": opts.years,
                         "parse_cache": "cold" if opts.cold else "warm", "wall_s": round(case["wall_s"], 2),
                         "foundation_s": round(foundation, 2), "peak_rss_mb": round(case["peak_rss_mb"], 1),
                         "dbt_invocations": case["dbt_invocations"], "rows": case["rows"],
                         "rows_per_s": round(case["rows_per_s"]), "last_year_s": round(year_dbt, 2),
                         "last_year_sql_floor_s": round(floor, 2) if floor is not None else None,
                         "dbt_overhead_share": round(1 - floor / year_dbt, 3) if floor else None})
            print(json.dumps(rows[-1]), flush=True)
    report_table(rows, out / "results.json")


def report_table(rows: list[dict], path: Path) -> None:
    """Print the rows as a Markdown table (as pasted into docs/performance.md) and save them as JSON."""
    print()
    header = list(rows[0])
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for r in rows:
        print(" | ".join(str(r[h]) for h in header))
    path.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
