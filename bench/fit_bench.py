"""Fit and backtest timings (docs/performance.md, "Fitting and backtesting").

Usage: python bench/fit_bench.py [--employees 100000] [--backtest-employees 10000] [--replicates 20]
                                 [--max-concurrent 2] [--skip-backtest] [--out bench/results/fit]
Targets: fitting a 4-snapshot history of 100,000 employees in at most 10 s; a backtest of 20 replicates x 10,000
employees x 1 held-out year in at most 2 minutes on 2 cores. The synthetic histories are generated first (not
timed); each timed step is one `planwise` process, import and all.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "planwise"), *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        raise SystemExit(f"planwise {' '.join(args)} failed:\n{proc.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--backtest-employees", type=int, default=10_000)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--max-concurrent", type=int, default=2)
    parser.add_argument("--skip-backtest", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/results/fit"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    history = args.out / f"history_{args.employees}"
    timed(["census", "history", "--employees", str(args.employees), "--years", "4", "--out", str(history)])
    results = {"fit_employees": args.employees,
               "fit_seconds": timed(["fit", str(history), "--out", str(args.out / "fit")])}
    if not args.skip_backtest:
        small = args.out / f"history_{args.backtest_employees}"
        timed(["census", "history", "--employees", str(args.backtest_employees), "--years", "4", "--out", str(small)])
        results.update(backtest_employees=args.backtest_employees, replicates=args.replicates,
                       backtest_seconds=timed(["backtest", str(small), "--replicates", str(args.replicates),
                                               "--max-concurrent", str(args.max_concurrent), "--no-compare-built-in",
                                               "--out", str(args.out / "backtest")]))
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
