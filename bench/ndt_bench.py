"""The NDT layer's SQL alone: one year's NDT marts replayed on a finished NDT-on database, timed and checked.

Usage: python bench/ndt_bench.py --database DB --config CONFIG [--year Y] [--repeat 3] [--profile DIR]
       python bench/ndt_bench.py --ab 2 [--size 100000] [--years 5] [--baseline-dbt DIR] [--engine NAME] [--out DIR]

The database is copied; dbt compiles the year's models (bench/floor.py's compile_year, with the dbt project of
PLANWISE_DBT_DIR when set, so an older tree can be measured against the current one); the year's rows of
fct_ndt_employee and fct_ndt_summary are deleted and inserted again from the compiled SQL, ``--repeat`` times.
Each model's CPU seconds (this process: DuckDB's threads included) and wall seconds are printed with the load
average, and the replayed rows are compared with the run's own (a sha256 of the sorted rows): the same rows
byte for byte or the script fails. ``--profile DIR`` also writes DuckDB's JSON profile of each model.

``--ab N`` measures whole runs instead (bench/run_bench.py's `planwise run` processes, no SQL floor): N rounds of
NDT off (plan case ``on``), NDT on, and NDT on with the dbt project of ``--baseline-dbt`` when given, interleaved
so the machine's load falls on every case alike, after a one-year run of each that warms its parse cache; CPU seconds of the process tree, wall seconds and the load
average of each run, then each case's median. ``--engine NAME`` runs them with that engine (e.g. ``compiled``;
the default is the optimized level, as before); its warm-up is then a whole run of the same size and years, so
an engine that caches compiled SQL per configuration starts every measured round warm.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from floor import compile_year  # bench/ is on sys.path when run as a script
from planwise_core.config import load_config
from planwise_core.database.workspace import Workspace
from planwise_core.engine.project import DbtProject

MODELS = ("fct_ndt_employee", "fct_ndt_summary")  # the summary reads the employee rows of its year


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def digest(con: duckdb.DuckDBPyConnection, table: str, year: int) -> str:
    return con.execute(f"select sha256(coalesce(string_agg(cast(r as varchar), chr(10) order by cast(r as varchar)), "
                       f"'')) from \"{table}\" r where simulation_year = ?", [year]).fetchone()[0]


def replay(copy: Path, sql: dict[str, str], year: int, profile: Path | None) -> dict[str, dict[str, float]]:
    """Delete and insert the year's NDT rows once; CPU and wall seconds per model."""
    figures = {}
    with duckdb.connect(str(copy), config={"threads": 2}) as con:
        for model in reversed(MODELS):
            con.execute(f'delete from "{model}" where simulation_year = ?', [year])
        con.execute("checkpoint")
        for model in MODELS:
            if profile:
                con.execute("pragma enable_profiling = 'json'")
                con.execute(f"pragma profiling_output = '{profile / (model + '.json')}'")
            wall, cpu = time.perf_counter(), cpu_seconds()
            con.execute(f'insert into "{model}" by name ({sql[model]})')
            figures[model] = {"cpu_s": round(cpu_seconds() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3)}
            con.execute("pragma disable_profiling")
    return figures


def ab_runs(rounds: int, size: int, years: int, baseline_dbt: str, out: Path, engine: str = "") -> None:
    """Whole `planwise run` processes, NDT off and on (and on with a baseline dbt project), interleaved."""
    import statistics

    import run_bench

    out.mkdir(parents=True, exist_ok=True)
    census, env = run_bench.census_file(out, size), run_bench.environment(out)
    cases = [("ndt_off", "on", None), ("ndt_on", "ndt", None)]
    if baseline_dbt:
        cases.append(("ndt_on_baseline", "ndt", baseline_dbt))
    warm_census, warm_years = (census, years) if engine else (run_bench.census_file(out, 200), 1)
    for name, plan, dbt_dir in cases:  # warm each project's parse cache: no case pays dbt's parse in its rounds
        run_bench.run_case(warm_census, out / f"warm_{name}.duckdb", None if engine else "high", warm_years,
                           run_bench.plan_config(out, plan), dict(env, **({"PLANWISE_DBT_DIR": dbt_dir} if dbt_dir else {})),
                           engine=engine or None)
    rows = []
    for round_ in range(rounds):
        for name, plan, dbt_dir in cases:
            case_env = dict(env, **({"PLANWISE_DBT_DIR": dbt_dir} if dbt_dir else {}))
            figures = run_bench.run_case(census, out / f"{name}.duckdb", None if engine else "high", years,
                                         run_bench.plan_config(out, plan), case_env, engine=engine or None)
            rows.append({"case": name, "round": round_, "cpu_s": figures["cpu_s"], "wall_s": figures["wall_s"],
                         "load_average": [round(v, 2) for v in os.getloadavg()]})
            print(json.dumps(rows[-1]), flush=True)
    for name, _, _ in cases:
        mine = [r for r in rows if r["case"] == name]
        print(json.dumps({"case": name, "median_cpu_s": statistics.median(r["cpu_s"] for r in mine),
                          "median_wall_s": statistics.median(r["wall_s"] for r in mine)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ab", type=int, default=0, help="rounds of whole runs, NDT off / on (see above)")
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--baseline-dbt", default="", help="a dbt project directory to measure NDT on with too")
    p.add_argument("--engine", default="", help="with --ab: the engine to run (default: the optimized level)")
    p.add_argument("--out", type=Path, default=Path("bench/results/ndt_ab"))
    p.add_argument("--database", type=Path)
    p.add_argument("--config", type=Path)
    p.add_argument("--year", type=int)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", type=Path)
    opts = p.parse_args()
    if opts.ab:
        return ab_runs(opts.ab, opts.size, opts.years, opts.baseline_dbt, opts.out.resolve(), opts.engine)
    if not (opts.database and opts.config):
        p.error("--database and --config are required without --ab")
    config = load_config(opts.config)
    year = opts.year or config.to_dbt_vars()["end_year"]
    with tempfile.TemporaryDirectory(prefix="ndt_bench_") as tmp:
        copy = Path(tmp) / Workspace(opts.database).build.name  # the catalog the compiled SQL names
        shutil.copy(opts.database, copy)
        with duckdb.connect(str(copy)) as con:
            expected = {m: digest(con, m, year) for m in MODELS}
        sql = compile_year(DbtProject(copy), dict(config.to_dbt_vars(), simulation_year=year))
        if opts.profile:
            opts.profile.mkdir(parents=True, exist_ok=True)
        runs = [replay(copy, sql, year, opts.profile) for _ in range(opts.repeat)]
        with duckdb.connect(str(copy)) as con:
            identical = {m: digest(con, m, year) == expected[m] for m in MODELS}
    best = {m: {k: min(r[m][k] for r in runs) for k in ("cpu_s", "wall_s")} for m in MODELS}
    print(json.dumps({"year": year, "dbt_dir": os.environ.get("PLANWISE_DBT_DIR", "(installed)"),
                      "load_average": [round(v, 2) for v in os.getloadavg()], "runs": runs, "best": best,
                      "identical": identical}, indent=1))
    if not all(identical.values()):
        raise SystemExit(f"replayed NDT rows differ from the run's own: {identical}")


if __name__ == "__main__":
    main()
