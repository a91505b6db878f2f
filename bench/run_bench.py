"""Single runs through the CLI: wall time, foundation, peak RSS, dbt invocations, rows/s, the SQL floor.

Usage: python bench/run_bench.py [--sizes 10000,100000] [--years 5] [--plan on] [--floor-max 100000]
                                  [--legacy 10000:1] [--baseline-src DIR] [--cold] [--out bench/results]
Each case is one `planwise run` process started from the shell (Python start-up, dbt import and parse
included) with the RSS of its whole process tree sampled every 50 ms. --plan takes plan cases,
comma-separated: on (match, core graded by service and auto-escalation: the issue 16 configuration, the
default here), default (the shipped configuration: the match only), off (plan.enabled: false) and ndt (on with
nondiscrimination testing, docs/ndt.md: `--sizes 100000 --plan ndt` against `--plan on` is the NDT layer's cost).
The SQL floor (bench/floor.py) replays every simulated year's compiled SQL straight in DuckDB, after the run,
for sizes up to --floor-max; above it, only the last year is replayed and multiplied by the years (marked ≈).
--legacy SIZE:YEARS adds the legacy engine and an optimized run of the same census and years, and compares
their tables by digest. --baseline-src runs every case a second time with another source tree first on
PYTHONPATH (e.g. an export of main), so before and after are measured in one invocation.
With --cold the shared dbt parse cache is emptied before each case (otherwise a case starts from the last one's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil

BIN = Path(sys.executable).parent
LAST_CPU = [0.0]
START_YEAR = 2025


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(args: list[str], env: dict | None = None, interval: float = 0.05) -> tuple[dict, float, int]:
    """Run a command that prints JSON; its parsed output, wall seconds and the peak RSS of its process tree.
    The CPU seconds of the tree (user + system, from getrusage) land in ``LAST_CPU``: on a shared machine
    they move less with the other users' load than the wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(ps))
        time.sleep(interval)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
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
# Issue 25: the "on" plan with nondiscrimination testing (docs/ndt.md); compare with "on" for the layer's cost.
PLAN_CASES["ndt"] = {"plan": {**PLAN_CASES["on"]["plan"], "ndt": {"enabled": True}}}


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


def census_file(out: Path, size: int) -> Path:
    census = out / f"census_{size}.parquet"
    if not census.exists():
        subprocess.run([str(BIN / "planwise"), "census", "generate", "--employees", str(size), "--seed", "1",
                        "--out", str(census)], check=True, capture_output=True)
    return census


def engine_options(engine: str) -> tuple[list[str], str]:
    """The CLI's global options and optimization level that run ``engine`` (a name: any installed engine)."""
    if engine == "legacy":
        return [], "fallback"
    return ([] if engine == "optimized" else ["--plugin", engine]), "high"


def run_case(census: Path, database: Path, level: str | None, years: int, config: Path, env: dict,
             engine: str | None = None) -> dict:
    """One `planwise run` process (at ``level``, or of ``engine`` by name); the figures of the detail table."""
    for stale in database.parent.glob(f"{database.name}*"):
        stale.unlink() if stale.is_file() else shutil.rmtree(stale)
    shutil.rmtree(database.parent / f".{database.name}.build", ignore_errors=True)
    plugin, default_level = engine_options(engine) if engine else ([], "high")
    args = [str(BIN / "planwise"), *plugin, "--config", str(config), "run", "--census", str(census), "--database",
            str(database), "--json", "--performance-mode", "--optimization", level or default_level,
            "--start-year", str(START_YEAR), "--end-year", str(START_YEAR + years - 1)]
    result, wall, peak = measure(args, env)
    perf, metrics = result["performance_metrics"], list(result["plugin_metrics"].values())
    year_rows = {int(y): d for y, d in result["years"].items()}
    rows = sum(d["rows"] for d in year_rows.values())
    foundation_calls = sum(s["dbt_invocations"] for s in perf.get("foundation_steps", []))
    last = max(year_rows)
    invocations = sum(m.get("dbt_invocations", 0) for m in metrics)
    return {"wall_s": round(wall, 2), "cpu_s": round(LAST_CPU[0], 1), "foundation_s": round(perf.get("foundation_seconds", 0.0), 2),
            "peak_rss_mb": round(peak / 2**20), "dbt_invocations": invocations,
            "invocations_per_year": round((invocations - foundation_calls) / len(year_rows), 2),
            "parse_s": round(sum(m.get("parse_seconds", 0.0) for m in metrics), 3),
            # What a first run pays once: dbt's parse, and an engine's SQL compile when it reports one.
            "one_time_s": round(sum(m.get(k) or 0.0 for m in metrics for k in ("parse_seconds", "compile_seconds")), 2),
            "engines": sorted({d.get("plugin") for d in year_rows.values()} - {None}), "years_s": round(sum(d["seconds"] for d in year_rows.values()), 2),
            "rows": rows, "rows_per_s": round(rows / wall), "last_year_s": round(year_rows[last]["seconds"], 2)}


def table_digests(database: Path) -> dict[str, str]:
    """sha256 of every year table's rows (each row as text, in sorted order), by table: the tables the engines
    write year by year, as the optimized engine declares them (engine_comparison.year_tables)."""
    from planwise_core.config import PlanwiseConfig
    from planwise_core.engine_comparison import year_tables

    tables = year_tables(PlanwiseConfig(), database)
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: con.execute(f'select sha256(coalesce(string_agg(cast(r as varchar), chr(10) order by '
                               f'cast(r as varchar)), \'\')) from "{t}" r').fetchone()[0] for t in tables}


def single_runs(opts, out: Path, env: dict, label: str = "after") -> list[dict]:
    """Every optimized size, then the legacy pair; one detail row each."""
    from floor import sql_floor  # bench/ is on sys.path when run as a script

    config, rows = plan_config(out, opts.plan), []
    for size in [int(s) for s in opts.sizes.split(",") if s]:
        if opts.cold:
            shutil.rmtree(out / "parse-cache", ignore_errors=True)
        database = out / f"optimized_{size}_{label}.duckdb"
        row = {"case": f"{size:,} x {opts.years} optimized", "code": label, "employees": size, "engine": "optimized",
               "years": opts.years, **run_case(census_file(out, size), database, "high", opts.years, config, env)}
        years = list(range(START_YEAR, START_YEAR + opts.years))
        if label == "after":  # same SQL before and after: the floor is measured once
            replay = years if size <= opts.floor_max else years[-1:]
            floors, _ = sql_floor(database, config, replay)
            floor = sum(floors.values()) * (len(years) / len(replay))
            row.update(sql_floor_s=round(floor, 2), floor_estimated=len(replay) < len(years),
                       last_year_floor_s=round(floors[years[-1]], 2), wall_over_floor=round(row["wall_s"] / floor, 2))
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    if opts.legacy:
        rows += legacy_pair(opts, out, env, config, label)
    return rows


def legacy_pair(opts, out: Path, env: dict, config: Path, label: str) -> list[dict]:
    size, years = (int(v) for v in opts.legacy.split(":"))
    census, pair = census_file(out, size), []
    for engine, level in (("optimized", "high"), ("legacy", "fallback")):
        database = out / f"{engine}_{size}_{years}y_{label}.duckdb"
        row = {"case": f"{size:,} x {years} {engine}", "code": label, "employees": size, "engine": engine,
               "years": years, **run_case(census, database, level, years, config, env)}
        row["digests"] = table_digests(database)
        pair.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    pair[1]["identical_to_optimized"] = pair[0]["digests"] == pair[1]["digests"]
    pair[1]["legacy_ratio"] = round(pair[1]["wall_s"] / pair[0]["wall_s"], 1)
    return pair


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--plan", default="on", choices=sorted(PLAN_CASES))
    p.add_argument("--floor-max", type=int, default=100_000, help="replay every year's SQL up to this size")
    p.add_argument("--legacy", default="", help="SIZE:YEARS for the legacy engine against optimized, e.g. 10000:1")
    p.add_argument("--baseline-src", default="", help="a source tree (e.g. `git archive main`) to run first")
    p.add_argument("--cold", action="store_true", help="empty the shared dbt parse cache before each case")
    p.add_argument("--out", default="bench/results")
    return p


def environment(out: Path, src: str = "") -> dict:
    env = dict(os.environ, PLANWISE_CACHE_DIR=str(out / "parse-cache"))
    if src:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(src).resolve()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def report_table(rows: list[dict], path: Path | None = None, columns: list[str] | None = None) -> None:
    """Print rows as a Markdown table (as pasted into docs/performance.md); save them as JSON when asked."""
    columns = columns or list(dict.fromkeys(k for r in rows for k in r if k != "digests"))
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        print("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |")
    if path is not None:
        path.write_text(json.dumps(rows, indent=1))


def _cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def main() -> None:
    opts = parser().parse_args()
    out = Path(opts.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows = single_runs(opts, out, environment(out, opts.baseline_src), "before") if opts.baseline_src else []
    rows += single_runs(opts, out, environment(out))
    print(f"configuration: plan case {opts.plan!r} ({json.dumps(PLAN_CASES[opts.plan])})")
    report_table(rows, out / "results.json")


if __name__ == "__main__":
    main()
