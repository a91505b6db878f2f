"""`make bench`: every target of issue 16 measured in one invocation, then ONE table of targets and a detail table.

Usage: python bench/bench.py [--quick] [--out bench/results]
The full run: optimized 10K, 100K and 1M employees x 5 years, the legacy engine against optimized on the 10K
census for one year (tables compared by digest), and a local batch of 8 runs of 10K x 5 years on 1 then 2
pool workers. --quick runs only the 10K and 100K cases. Every case uses the plan configuration of issue 16:
the match, a core contribution graded by service and auto-escalation on (bench/run_bench.py PLAN_CASES["on"];
the shipped default has core and escalation off).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from batch_bench import run_case as batch_case  # bench/ is on sys.path when run as a script
from run_bench import PLAN_CASES, environment, parser as run_parser, plan_config, report_table, single_runs

DETAIL = ["case", "wall_s", "cpu_s", "foundation_s", "peak_rss_mb", "dbt_invocations",
          "invocations_per_year", "rows", "rows_per_s", "last_year_s", "sql_floor_s", "wall_over_floor"]


def verdict(ok: bool | None) -> str:
    return "not run" if ok is None else ("met" if ok else "**missed**")


def targets(rows: list[dict], batch: list[dict]) -> list[dict]:
    """One row per line of issue 16's target table: the figure measured, the target, met or missed."""
    by = {(r["employees"], r["engine"], r["years"]): r for r in rows}
    k10, k100, m1 = by.get((10_000, "optimized", 5)), by.get((100_000, "optimized", 5)), by.get((1_000_000, "optimized", 5))
    legacy = next((r for r in rows if r["engine"] == "legacy"), None)
    out = []

    def add(case, measured, target, ok):
        out.append({"case": case, "measured": measured, "target": target, "verdict": verdict(ok)})

    if k100:
        floor = k100.get("sql_floor_s")
        add("100K x 5 years, end to end through the CLI", f"{k100['wall_s']} s = {k100.get('wall_over_floor')}x "
            f"the SQL floor ({floor} s)", "<= 12 s and <= 2.5x the SQL floor",
            k100["wall_s"] <= 12 and (k100.get("wall_over_floor") or 99) <= 2.5)
        add("foundation at 100K", f"{k100['foundation_s']} s",
            "<= 3 s", k100["foundation_s"] <= 3)
    else:
        add("100K x 5 years, end to end through the CLI", "—", "<= 12 s and <= 2.5x the SQL floor", None)
        add("foundation at 100K", "—", "<= 3 s", None)
    add("10K x 5 years, end to end", f"{k10['wall_s']} s" if k10 else "—", "<= 6 s", k10 and k10["wall_s"] <= 6)
    add("1M x 5 years", f"{m1['wall_s']} s, peak RSS {m1['peak_rss_mb']:,} MB" if m1 else "—",
        "<= 60 s, peak RSS <= 3 GB", m1 and m1["wall_s"] <= 60 and m1["peak_rss_mb"] <= 3072)
    optimized = [r for r in rows if r["engine"] == "optimized"]
    worst = max((r["invocations_per_year"] for r in optimized), default=None)
    add("dbt invocations per year", f"{worst} (most of any optimized case)" if worst is not None else "—", "<= 2",
        worst is not None and worst <= 2)
    one, two = (next((b for b in batch if b["workers"] == n), None) for n in (1, 2))
    if one and two:
        ratio = round(two["runs_per_min"] / one["runs_per_min"], 2)
        add("local batch, 8 runs of 10K x 5 years", f"{two['runs_per_min']} / {one['runs_per_min']} runs/min = "
            f"{ratio}x", "2 workers >= 1.8x the runs per minute of 1", ratio >= 1.8)
    else:
        add("local batch, 8 runs of 10K x 5 years", "—", "2 workers >= 1.8x the runs per minute of 1", None)
    if legacy:
        add(f"legacy ({legacy['case']})", f"{legacy['legacy_ratio']}x slower, tables "
            f"{'identical' if legacy['identical_to_optimized'] else 'DIFFERENT'}",
            "unchanged SQL, >= 10x slower, tables identical",
            legacy["identical_to_optimized"] and legacy["legacy_ratio"] >= 10)
    else:
        add("legacy", "—", "unchanged SQL, >= 10x slower, tables identical", None)
    return [{k: v for k, v in r.items()} for r in out]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="only the 10K and 100K optimized cases")
    p.add_argument("--out", default="bench/results")
    opts = p.parse_args()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    run_opts = run_parser().parse_args(["--sizes", "10000,100000" + ("" if opts.quick else ",1000000"),
                                        *([] if opts.quick else ["--legacy", "10000:1"]), "--out", str(out)])
    warm_parse_cache(out)
    rows = single_runs(run_opts, out, environment(out))
    batch = []
    if not opts.quick:
        census = out / "census_10000.parquet"
        for workers in (1, 2):
            batch.append(batch_case("local", workers, 8, 5, census, out / f"batch_local_{workers}", environment(out),
                                    plan_config(out, "on")))
    print(f"\nissue 16 targets (plan on: {json.dumps(PLAN_CASES['on'])}); load average at start "
          f"{load[0]:.1f}, at end {os.getloadavg()[0]:.1f}; git {_commit()}\n")
    report_table(targets(rows, batch))
    print()
    report_table(rows, out / "results.json", DETAIL)
    if batch:
        print()
        report_table(batch, out / "batch.json")


def warm_parse_cache(out: Path) -> None:
    """Parse once before the cases, as any earlier run on a machine would have: every case then starts warm."""
    from run_bench import BIN

    code = ("from pathlib import Path; from planwise_core.database.workspace import Workspace; "
            "from planwise_core.engine.project import DbtProject, parsed_manifest; "
            "parsed_manifest(DbtProject(Workspace(Path('x.duckdb').resolve()).build))")
    subprocess.run([str(BIN / "python"), "-c", code], env=environment(out), check=True, cwd=out)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
