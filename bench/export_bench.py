"""The Excel export with every table (`planwise export --format xlsx --detail`): wall, CPU and peak memory.

Usage: python bench/export_bench.py [--sizes 10000,100000] [--years 5] [--baseline-src DIR] [--repeat 1]
                                    [--out bench/results/export]
For each size, a synthetic census (seed 42) is simulated once over 2025 to 2024 + YEARS (the database is kept
and reused), then the detail workbook is exported in a fresh Python process, which is measured: wall seconds,
CPU seconds (user + system of the process, from getrusage) and the peak RSS of the process (sampled every
50 ms). --baseline-src DIR exports a second time with another source tree first on PYTHONPATH (e.g.
`git archive <commit> | tar -x -C DIR`), so before and after are measured in one invocation, alternating.
On a shared machine the CPU seconds are the comparable figure; the wall time moves with the other users' load
(the load average is printed with each line).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil

from run_bench import tree_rss

BIN = Path(sys.executable).parent
# The old API exported every table to a workbook; the new one needs detail=True for the same workbook.
EXPORT = """
import inspect, sys
from planwise_core.outputs.export import export_results
print(sys.modules["planwise_core"].__file__, file=sys.stderr)
detail = {"detail": True} if "detail" in inspect.signature(export_results).parameters else {}
export_results(sys.argv[1], "xlsx", sys.argv[2], **detail)
"""


def simulate(size: int, years: int, folder: Path) -> Path:
    database = folder / f"run_{size}x{years}.duckdb"
    if database.exists():
        return database
    census = folder / f"census_{size}.parquet"
    subprocess.run([BIN / "planwise", "census", "generate", "--employees", str(size), "--seed", "42",
                    "--out", str(census)], check=True, capture_output=True)
    subprocess.run([BIN / "planwise", "run", "--census", str(census), "--years", f"2025-{2024 + years}",
                    "--database", str(database), "--json"], check=True, capture_output=True)
    return database


def measure_export(database: Path, out: Path, source: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=source) if source else {k: v for k, v in os.environ.items()
                                                                 if k != "PYTHONPATH"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Started outside the checkout: `python -c` puts its working folder first on sys.path.
    proc = subprocess.Popen([sys.executable, "-c", EXPORT, str(database), str(out)], env=env, cwd=out.parent)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"export failed ({source or 'this tree'})")
    workbook = out / "results.xlsx"
    return {"wall_s": round(wall, 2), "cpu_s": round(after.ru_utime + after.ru_stime
                                                     - before.ru_utime - before.ru_stime, 2),
            "peak_rss_mb": round(peak / 2**20), "file_mb": round(workbook.stat().st_size / 2**20, 1),
            "load": round(os.getloadavg()[0], 1)}


def cells(database: Path) -> int:
    import duckdb

    tables = ("fct_year_summary", "fct_dc_plan_summary", "fct_yearly_events", "fct_workforce_snapshot",
              "fct_dc_contributions")
    with duckdb.connect(str(database), read_only=True) as con:
        return sum(con.execute(f"select count(*) from {t}").fetchone()[0] * len(con.execute(f"describe {t}")
                                                                                   .fetchall()) for t in tables)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--baseline-src")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", default="bench/results/export")
    args = parser.parse_args()
    folder = Path(args.out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    variants = [("before", args.baseline_src)] if args.baseline_src else []
    variants.append(("after", None))
    results = []
    print(f"{'case':<16} {'variant':<8} {'cells':>11} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'file MB':>8} "
          f"{'load':>5}")
    for size in (int(s) for s in args.sizes.split(",")):
        database = simulate(size, args.years, folder)
        count = cells(database)
        for _attempt in range(args.repeat):
            for name, source in variants:
                row = measure_export(database, folder / f"out_{size}_{name}", source)
                results.append({"size": size, "years": args.years, "variant": name, "cells": count, **row})
                print(f"{f'{size:,} x {args.years}':<16} {name:<8} {count:>11,} {row['wall_s']:>8.2f} "
                      f"{row['cpu_s']:>8.2f} {row['peak_rss_mb']:>8} {row['file_mb']:>8} {row['load']:>5}",
                      flush=True)
    (folder / "export.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
