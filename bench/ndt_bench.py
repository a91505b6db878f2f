"""The NDT layer's SQL alone: one year's NDT marts replayed on a finished NDT-on database, timed and checked.

Usage: python bench/ndt_bench.py --database DB --config CONFIG [--year Y] [--repeat 3] [--profile DIR]
       python bench/ndt_bench.py --ab 2 [--size 100000] [--years 5] [--baseline-dbt DIR] [--engine NAME] [--out DIR]

The database is copied; dbt compiles the year's models (bench/floor.py's compile_year, with the dbt project of
PLANWISE_DBT_DIR when set, so an older tree can be measured against the current one); the year's rows of
fct_ndt_employee and fct_ndt_summary are deleted and inserted again from the compiled SQL, ``--repeat`` times.
Each model's CPU seconds (this process: DuckDB's threads included) and wall seconds are printed with the load
average, and the replayed rows are compared with the run's own (a sha256 of the sorted rows): the same rows
byte for byte or the script fails. ``--profile DIR`` also writes DuckDB's JSON profile of each model. ``plan_s``
is the seconds DuckDB takes to plan each model's insert (a PREPARE, outside the timed insert); ``best`` and
``median`` are over the ``--repeat`` replays.
``--floor`` also times, the same way, the employee mart's floor: one query that joins only what
``fct_ndt_employee`` reads (the year's snapshot and money, last year's snapshot, money and NDT rows, the census, the
year's events per employee) and writes its 41 columns from trivial expressions into a new table (then dropped),
so the SQL's own cost shows apart from reading the inputs and writing the rows (docs/performance.md).
``--appends`` times what a year table's later years cost DuckDB: the year's employee rows inserted three times (as
three years) into a new table with the mart's columns, a checkpoint after each; then the same with inserts of
exactly two row groups (245,760 rows), which leave no partly full row group behind.

``--ab N`` measures whole runs instead (bench/run_bench.py's `planwise run` processes, no SQL floor): N rounds of
NDT off (plan case ``on``), NDT on, NDT on with the dbt project of ``--baseline-dbt`` when given, and with
``--floors`` NDT on with the marts replaced by a wide and a narrow floor (bench/ndt_floor_runs.py), interleaved
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
import statistics
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


def replay(copy: Path, sql: dict[str, str], year: int, profile: Path | None,
           threads: int = 2) -> dict[str, dict[str, float]]:
    """Delete and insert the year's NDT rows once; CPU and wall seconds per model."""
    figures = {}
    with duckdb.connect(str(copy), config={"threads": threads}) as con:
        for model in reversed(MODELS):
            con.execute(f'delete from "{model}" where simulation_year = ?', [year])
        con.execute("checkpoint")
        for model in MODELS:
            started = time.perf_counter()
            con.execute(f'prepare planned as insert into "{model}" by name ({sql[model]})')
            planned = round(time.perf_counter() - started, 3)
            con.execute("deallocate planned")
            if profile:
                con.execute("pragma enable_profiling = 'json'")
                con.execute(f"pragma profiling_output = '{profile / (model + '.json')}'")
            wall, cpu = time.perf_counter(), cpu_seconds()
            con.execute(f'insert into "{model}" by name ({sql[model]})')
            figures[model] = {"cpu_s": round(cpu_seconds() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3),
                              "plan_s": planned}
            con.execute("pragma disable_profiling")
    return figures


# The floor's 41 columns (FLOOR_COLUMNS) over its inputs joined (FLOOR_INPUTS); ndt_floor_runs.py reuses both.
FLOOR_COLUMNS = """
s.employee_id, {year} as simulation_year, p.plan_comp as lookback_comp,
       cast(coalesce(cen.ownership_pct, 0) as decimal(9, 6)) as ownership_pct,
       coalesce(cen.is_officer, false) as is_officer, cast(null as boolean) as in_top_paid_group,
       p.plan_comp > 150000 as is_hce, case when p.plan_comp > 150000 then 'compensation' end as hce_reason,
       coalesce(n.is_key, false) as is_key, cast(null as varchar) as key_reason,
       coalesce(n.is_former_key, false) as is_former_key, false as key_test_in_year,
       cast(s.employee_hire_date + interval 1 year as date) as statutory_entry_date, false as is_otherwise_excludable,
       s.is_eligible as adp_eligible, case when s.is_eligible then 'main' end as adp_test_group,
       c.plan_comp as adp_testing_comp, c.employee_deferral as adp_deferrals,
       cast(c.employee_deferral / nullif(c.plan_comp, 0) as decimal(7, 4)) as adr,
       cast(0 as decimal(18, 2)) as adp_excess, cast(0 as decimal(18, 2)) as adp_recharacterized,
       cast(ev.changes as decimal(18, 2)) as adp_distributed, cast(0 as decimal(18, 2)) as match_forfeited_adp,
       c.employer_match as match_after_adp, c.match_eligible as acp_eligible,
       case when c.match_eligible then 'main' end as acp_test_group, c.match_comp as acp_testing_comp,
       c.employer_match as acp_match, cast(c.employer_match / nullif(c.plan_comp, 0) as decimal(7, 4)) as acr,
       cast(0 as decimal(18, 2)) as acp_excess, cast(0 as decimal(18, 2)) as acp_distributed,
       cast(0 as decimal(18, 2)) as acp_forfeited, cast(0 as decimal(18, 2)) as corrective_distribution,
       cast(0 as decimal(18, 2)) as match_forfeited,
       cast(c.employer_core / nullif(c.plan_comp, 0) as decimal(7, 4)) as core_allocation_rate,
       n.deferral_balance_eoy as deferral_balance_boy,
       coalesce(n.deferral_balance_eoy, 0) + c.employee_deferral as deferral_balance_eoy,
       cast(0 as decimal(18, 2)) as th_distribution, cast(0 as decimal(18, 2)) as th_required,
       c.employer_core as th_employer_contribution, cast(0 as decimal(18, 2)) as th_shortfall
"""

FLOOR_INPUTS = """
from fct_workforce_snapshot as s
inner join fct_dc_contributions as c on c.employee_id = s.employee_id and c.simulation_year = {year}
left join (
    select s1.employee_id, c1.plan_comp
    from fct_workforce_snapshot as s1
    inner join fct_dc_contributions as c1 on c1.employee_id = s1.employee_id and c1.simulation_year = {year} - 1
    where s1.simulation_year = {year} - 1
) as p on p.employee_id = s.employee_id
left join stg_census as cen on cen.employee_id = s.employee_id
left join (
    select employee_id, is_key, is_former_key, deferral_balance_eoy from fct_ndt_employee
    where simulation_year = {year} - 1
) as n on n.employee_id = s.employee_id
left join (
    select employee_id, sum(compensation_amount - coalesce(previous_compensation, 0)) as changes
    from fct_yearly_events
    where simulation_year = {year} and event_type in ('hire', 'promotion', 'raise')
    group by employee_id
) as ev on ev.employee_id = s.employee_id
where s.simulation_year = {year}
"""

FLOOR_SQL = "select " + FLOOR_COLUMNS + FLOOR_INPUTS


def floor_replay(copy: Path, year: int, threads: int = 2) -> dict[str, float]:
    """The employee mart's floor (FLOOR_SQL) written into a new table with the mart's columns, then dropped."""
    with duckdb.connect(str(copy), config={"threads": threads}) as con:
        con.execute("create or replace table ndt_floor as select * from fct_ndt_employee limit 0")
        con.execute("checkpoint")
        wall, cpu = time.perf_counter(), cpu_seconds()
        con.execute(f"insert into ndt_floor by name ({FLOOR_SQL.format(year=year)})")
        figures = {"cpu_s": round(cpu_seconds() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3)}
        con.execute("drop table ndt_floor")
    return figures


def appends(copy: Path, year: int, threads: int = 2) -> dict[str, list[dict[str, float]]]:
    """Seconds of each insert and of the checkpoint after it, three inserts a case (see above)."""
    cases = {"a year's rows": "select * from ndt_stage", "two row groups":
             "select * from (select * from ndt_stage union all select * from ndt_stage) limit 245760"}
    figures = {}
    # checkpoints only where timed: DuckDB's own after a large commit would land inside the insert's seconds
    with duckdb.connect(str(copy), config={"threads": threads, "checkpoint_threshold": "10GB"}) as con:
        con.execute(f"create temp table ndt_stage as select * from fct_ndt_employee where simulation_year = {int(year)}")
        for case, rows in cases.items():
            con.execute("create or replace table ndt_appends as select * from fct_ndt_employee limit 0")
            con.execute("checkpoint")
            figures[case] = []
            for i in range(3):
                started = time.perf_counter()
                con.execute(f"insert into ndt_appends select * replace ({i} as simulation_year) from ({rows})")
                inserted = time.perf_counter()
                con.execute("checkpoint")
                figures[case].append({"insert_s": round(inserted - started, 3),
                                      "checkpoint_s": round(time.perf_counter() - inserted, 3)})
        con.execute("drop table ndt_appends")
    return figures


def ab_runs(rounds: int, size: int, years: int, baseline_dbt: str, out: Path, engine: str = "",
            floors: bool = False) -> None:
    """Whole `planwise run` processes, NDT off and on (and on with a baseline dbt project, and with the floors of
    ndt_floor_runs.py), interleaved."""
    import run_bench
    from ndt_floor_runs import floor_projects

    out.mkdir(parents=True, exist_ok=True)
    census, env = run_bench.census_file(out, size), run_bench.environment(out)
    cases = [("ndt_off", "on", None), ("ndt_on", "ndt", None)]
    if baseline_dbt:
        cases.append(("ndt_on_baseline", "ndt", baseline_dbt))
    if floors:
        cases += [(name, "ndt", project) for name, project in floor_projects(out)]
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
    p.add_argument("--floor", action="store_true", help="also time the employee mart's floor (see above)")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads of the replay (a 100K run uses 1)")
    p.add_argument("--appends", action="store_true", help="also time a year table's later inserts (see above)")
    p.add_argument("--floors", action="store_true",
                   help="with --ab: also run NDT on with the marts replaced by floors (bench/ndt_floor_runs.py)")
    opts = p.parse_args()
    # an option of the other mode would be ignored: refuse it instead
    ab_only = [f"--{name.replace('_', '-')}" for name in ("floors", "engine", "baseline_dbt") if getattr(opts, name)]
    replay_only = [f"--{name}" for name in ("database", "config", "year", "profile", "floor", "appends")
                   if getattr(opts, name)]
    if opts.ab and replay_only:
        p.error(f"for one year's replay only, not with --ab: {', '.join(replay_only)}")
    if not opts.ab and ab_only:
        p.error(f"for whole runs only (--ab N): {', '.join(ab_only)}")
    if opts.ab:
        return ab_runs(opts.ab, opts.size, opts.years, opts.baseline_dbt, opts.out.resolve(), opts.engine,
                       opts.floors)
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
        runs = [replay(copy, sql, year, opts.profile, opts.threads) for _ in range(opts.repeat)]
        floors = [floor_replay(copy, year, opts.threads) for _ in range(opts.repeat)] if opts.floor else []
        appended = appends(copy, year, opts.threads) if opts.appends else None
        with duckdb.connect(str(copy)) as con:
            identical = {m: digest(con, m, year) == expected[m] for m in MODELS}
    timed = {m: [r[m] for r in runs] for m in MODELS}
    if floors:
        timed["fct_ndt_employee floor"] = floors
    best = {m: {k: min(f[k] for f in figures) for k in figures[0]} for m, figures in timed.items()}
    median = {m: {k: statistics.median(f[k] for f in figures) for k in figures[0]} for m, figures in timed.items()}
    print(json.dumps({"year": year, "dbt_dir": os.environ.get("PLANWISE_DBT_DIR", "(installed)"),
                      "load_average": [round(v, 2) for v in os.getloadavg()], "runs": runs, "best": best,
                      "median": median, "appends": appended, "identical": identical}, indent=1))
    if not all(identical.values()):
        raise SystemExit(f"replayed NDT rows differ from the run's own: {identical}")


if __name__ == "__main__":
    main()
