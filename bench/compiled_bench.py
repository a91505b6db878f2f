"""The compiled engine against the optimized one, through the CLI (docs/performance.md, "The compiled engine").

Usage: python bench/compiled_bench.py [--sizes 10000,100000] [--years 5] [--plan on] [--reps 2] [--out DIR]
For each size: one optimized run (it also warms dbt's parse cache), one compiled run with the compiled-SQL cache
emptied first (cold: it compiles every phase of the run), then --reps interleaved pairs of optimized and compiled
(warm) runs. Each run is one `planwise run` process (bench/run_bench.py's run_case: wall, CPU of the process tree,
peak RSS); the compiled and optimized result tables are compared by digest. CPU seconds are the stable figure on
a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_bench import census_file, plan_config, run_case, table_digests  # noqa: E402

from planwise_core.levels import HIGH, MAX  # noqa: E402


def empty_compiled_cache(cache: Path) -> None:
    for folder in cache.glob("dbt-parse/*/*/compiled"):
        shutil.rmtree(folder)


def one(label: str, size: int, census: Path, out: Path, level: str, opts, config: Path, env: dict) -> dict:
    row = {"case": label, "size": size, **run_case(census, out / f"{label.split()[0]}_{size}.duckdb", level,
                                                    opts.years, config, env)}
    print(json.dumps(row), flush=True)
    return row


def size_rows(size: int, opts, out: Path, config: Path, env: dict) -> list[dict]:
    census = census_file(out, size)
    rows = [one("optimized", size, census, out, HIGH, opts, config, env)]
    empty_compiled_cache(Path(env["PLANWISE_CACHE_DIR"]))
    rows.append(one("compiled cold", size, census, out, MAX, opts, config, env))
    for _ in range(opts.reps):
        rows.append(one("optimized", size, census, out, HIGH, opts, config, env))
        rows.append(one("compiled warm", size, census, out, MAX, opts, config, env))
    same = table_digests(out / f"optimized_{size}.duckdb") == table_digests(out / f"compiled_{size}.duckdb")
    print(f"size {size}: compiled and optimized tables identical: {same}", flush=True)
    return rows


def summary(rows: list[dict]) -> None:
    print(f"\n{'size':>7} {'case':<14} {'runs':>4} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}")
    for size in sorted({r["size"] for r in rows}):
        for case in ("optimized", "compiled cold", "compiled warm"):
            picked = [r for r in rows if r["size"] == size and r["case"] == case]
            if picked:
                print(f"{size:>7} {case:<14} {len(picked):>4} {statistics.median(r['wall_s'] for r in picked):>8.2f} "
                      f"{statistics.median(r['cpu_s'] for r in picked):>8.1f} "
                      f"{max(r['peak_rss_mb'] for r in picked):>8}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--plan", default="on")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--out", default="bench/results/compiled")
    opts = p.parse_args()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PLANWISE_CACHE_DIR=str(out / "parse-cache"))
    config = plan_config(out, opts.plan)
    rows = [row for size in map(int, opts.sizes.split(",")) for row in size_rows(size, opts, out, config, env)]
    summary(rows)


if __name__ == "__main__":
    main()
