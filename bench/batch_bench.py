"""Batch throughput: runs per minute of one ensemble on a local process pool and on a Dask LocalCluster.

Usage: python bench/batch_bench.py [--runs 8] [--employees 10000] [--years 5] [--cases local:1,local:2,dask:2]
                                    [--cold] [--out bench/results/batch]
Each case is one `planwise ensemble --seeds RUNS` process started from the shell (import, pool or cluster
start-up, aggregation and all), in a fresh output folder. The RSS of its whole process tree (pool workers,
Dask nannies and workers included) is sampled every 100 ms. dbt invocations and rows are summed over the
runs' records. With --cold the shared dbt parse cache is emptied before each case.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from pathlib import Path

from run_bench import BIN, LAST_CPU, measure, plan_config, report_table  # bench/ is on sys.path when run as a script


def run_case(kind: str, workers: int, runs: int, years: int, census: Path, out: Path, env: dict,
             config: Path | None = None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    args = [str(BIN / "planwise"), *(["--config", str(config)] if config else []), "ensemble", "--seeds", str(runs), "--first-seed", "1", "--census", str(census),
            "--start-year", "2025", "--end-year", str(2024 + years), "--output", str(out),
            "--max-concurrent", str(workers), "--json", "--no-report"]
    if kind == "dask":
        args += ["--dask", "local"]
    result, wall, peak = measure(args, env, interval=0.1)
    records = result["runs"]
    rows = sum(r.get("rows") or 0 for r in records)
    return {
        "executor": result["executor"], "workers": workers, "runs": len(records), "wall_s": round(wall, 1),
        "runs_per_min": round(len(records) / wall * 60, 2), "peak_rss_mb": round(peak / 2**20),
        "dbt_invocations": sum(r.get("dbt_invocations") or 0 for r in records), "rows": rows,
        "rows_per_s": round(rows / wall), "cpu_s": round(LAST_CPU[0], 1), "mean_run_s": round(sum(r["seconds"] for r in records) / len(records), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--cases", default="local:1,local:2,dask:2")
    parser.add_argument("--cold", action="store_true", help="empty the dbt parse cache before each case")
    parser.add_argument("--plan", default="on", help="plan case of bench/run_bench.py (default: on, as issue 16)")
    parser.add_argument("--out", default="bench/results/batch")
    opts = parser.parse_args()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    census = out / f"census_{opts.employees}.parquet"
    if not census.exists():
        subprocess.run([str(BIN / "planwise"), "census", "generate", "--employees", str(opts.employees), "--seed", "1",
                        "--out", str(census)], check=True, capture_output=True)
    cache = out / "parse-cache"
    env = dict(os.environ, PLANWISE_CACHE_DIR=str(cache))
    rows = []
    for case in opts.cases.split(","):
        kind, workers = case.split(":")
        if opts.cold:
            shutil.rmtree(cache, ignore_errors=True)
        rows.append(run_case(kind, int(workers), opts.runs, opts.years, census, out / case.replace(":", "_"), env,
                             plan_config(out, opts.plan)))
        print(json.dumps(rows[-1]), flush=True)
    report_table(rows, out / "results.json")


if __name__ == "__main__":
    main()
