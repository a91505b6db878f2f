"""`make bench`: the targets of issue 27 measured in one invocation, then ONE table of targets and a detail table.

Usage: python bench/bench.py [--quick] [--with-1m] [--engines compiled,optimized] [--legacy 10000:1]
                             [--with-batch] [--out bench/results]
Every case is one `planwise run` process (bench/run_bench.py: wall, CPU of the process tree, peak RSS of the
tree) with the plan of run_bench.PLAN_CASES["on"] (match, core graded by service, auto-escalation). Engines are
named as strings and chosen through the CLI (`--plugin NAME`; `legacy` through `--optimization fallback`); an
engine that `planwise plugins` does not list is reported "n/a (engine not installed)". The plain-DuckDB
workforce + money floor (bench/floor_money.py) runs on the same censuses in the same invocation.

Cases, for the first installed engine of --engines (the top of the fallback chain), and 10K / 100K for every one:
  cold: 10K x 5 with the parse cache (and any compile cache under it) emptied first, then the same run warm;
  10K x 5 and 100K x 5 warm (and 1M x 5 with --with-1m), each with its floor;
  NDT: the 100K run again with plan.ndt.enabled (10K with --quick), after one warm-up run of it;
  legacy: legacy SIZE x YEARS against the optimized engine on the same census, tables compared by digest.
--quick: the first engine only, 10K and 100K, NDT at 10K, no legacy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from pathlib import Path

from floor_money import money_floor  # bench/ is on sys.path when run as a script
from run_bench import (BIN, PLAN_CASES, START_YEAR, census_file, environment, plan_config, report_table, run_case,
                       table_digests)
from targets import DETAIL, targets

K10, K100, M1 = 10_000, 100_000, 1_000_000


def installed_engines(env: dict) -> set[str]:
    out = subprocess.run([str(BIN / "planwise"), "plugins", "--json"], env=env, check=True, capture_output=True,
                         text=True).stdout
    return {row["name"] for row in json.loads(out) if row["engine"]}


def case(out: Path, env: dict, engine: str, size: int, years: int, plan: str = "on", tag: str = "") -> dict:
    """One `planwise run` of ``engine``; the detail row."""
    database = out / f"{engine}_{size}_{years}y_{plan}{tag}.duckdb"
    row = {"case": f"{size:,} x {years} {engine}" + (f" ({plan})" if plan != "on" else "") + (f" {tag}" if tag else ""),
           "engine": engine, "employees": size, "years": years, "plan": plan, "tag": tag,
           **run_case(census_file(out, size), database, None, years, plan_config(out, plan), env, engine=engine)}
    row["end_headcounts"] = end_headcounts(database)
    print(json.dumps(row), flush=True)
    return row


def end_headcounts(database: Path) -> list[int]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return [r[0] for r in con.execute("select end_headcount from fct_year_summary order by simulation_year").fetchall()]


def floor_case(out: Path, size: int, years: int) -> dict:
    """The plain-DuckDB floor, one thread below 500K employees (as the product sizes DuckDB), all cores above."""
    result = money_floor(census_file(out, size), list(range(START_YEAR, START_YEAR + years)), out / "floor_money",
                         threads=1 if size < 500_000 else None)
    per_year = result["years"].values()
    row = {"employees": size, "years": years, "floor_s": round(result["total_s"], 2), "floor_cpu_s": round(result["cpu_s"], 2),
           "floor_workforce_s": round(sum(y["workforce_s"] for y in per_year), 2),
           "floor_money_s": round(sum(y["money_s"] for y in per_year), 2), "floor_money_rows": result["money_rows"],
           "floor_headcounts": [y["end_headcount"] for y in per_year]}
    print(json.dumps(row), flush=True)
    return row


def legacy_cases(out: Path, env: dict, spec: str) -> list[dict]:
    size, years = (int(v) for v in spec.split(":"))
    rows = [case(out, env, engine, size, years, tag="pair") for engine in ("optimized", "legacy")]
    digests = [table_digests(out / f"{r['engine']}_{size}_{years}y_on{r['tag']}.duckdb") for r in rows]
    rows[1]["identical_to_optimized"] = digests[0] == digests[1]
    return rows


def cold_then_warm(out: Path, env: dict, engine: str) -> list[dict]:
    shutil.rmtree(out / "parse-cache", ignore_errors=True)
    return [case(out, env, engine, K10, 5, tag="cold"), case(out, env, engine, K10, 5)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="first engine only, 10K and 100K, NDT at 10K, no legacy")
    p.add_argument("--with-1m", action="store_true", help="add 1M x 5 (minutes) with its floor")
    p.add_argument("--engines", default="compiled,optimized", help="engine names, fastest first")
    p.add_argument("--legacy", default="10000:1", help="SIZE:YEARS of the legacy case ('' for none)")
    p.add_argument("--with-batch", action="store_true", help="also the local batch of 8 runs on 1 then 2 workers")
    p.add_argument("--out", default="bench/results")
    opts = p.parse_args()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env, load = environment(out), os.getloadavg()
    wanted = [e for e in opts.engines.split(",") if e]
    installed = installed_engines(env)
    engines = [e for e in wanted if e in installed][: 1 if opts.quick else None]
    rows, floors = [], []
    if engines:
        top = engines[0]
        rows += cold_then_warm(out, env, top)
        sizes = [K100] + ([M1] if opts.with_1m else [])
        rows += [case(out, env, top, size, 5) for size in sizes]
        rows += [case(out, env, engine, size, 5) for engine in engines[1:] for size in (K10, K100)]
        ndt_size = K10 if opts.quick else K100
        case(out, env, top, ndt_size, 5, plan="ndt", tag="warm-up")  # its configuration compiled, like the warm case off
        rows.append(case(out, env, top, ndt_size, 5, plan="ndt"))
        floors = [floor_case(out, size, 5) for size in (K10, *sizes)]
    if opts.legacy and not opts.quick and "legacy" in installed:
        rows += legacy_cases(out, env, opts.legacy)
    batch = batch_cases(out, env) if opts.with_batch else []
    print(f"\nissue 27 targets (plan on: {json.dumps(PLAN_CASES['on'])}); engines asked {wanted}, installed "
          f"{sorted(installed)}; load average at start {load[0]:.1f}, at end {os.getloadavg()[0]:.1f}; git {_commit()}\n")
    report_table(targets(rows, floors, wanted, installed, opts))
    print()
    report_table(rows, out / "results.json", DETAIL)
    print()
    report_table(floors, out / "floors.json")
    if batch:
        print()
        report_table(batch, out / "batch.json")


def batch_cases(out: Path, env: dict) -> list[dict]:
    from batch_bench import run_case as batch_case

    census = census_file(out, K10)
    return [batch_case("local", workers, 8, 5, census, out / f"batch_local_{workers}", env, plan_config(out, "on"))
            for workers in (1, 2)]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
