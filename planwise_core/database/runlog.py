"""The run log (every attempt and how it ended), the year log (the run that produced each year), the build record,
and the lineage check that refuses results spliced together from different runs.

Statuses in ``planwise_run_log``: ``running`` (under way), ``completed`` (its results were published),
``failed`` (with ``error``; the previous results are untouched), ``interrupted`` (Ctrl-C or SIGTERM, or found still
``running`` by the next run after the process was killed). ``--resume`` turns the same row back to running.
"""

from __future__ import annotations

import json

import attrs

from planwise_core.database.connection import completed_years
from planwise_core.database.sql import attached, dicts, inline, table_exists
from planwise_core.errors import PlanwiseError

RUN_LOG, YEAR_LOG = "planwise_run_log", "planwise_year_log"

RUN_LOG_DDL = """
create table if not exists planwise_run_log (
    run_id varchar primary key, started_at timestamp, finished_at timestamp, status varchar,
    start_year integer, end_year integer, config_json varchar, census_path varchar, plugin varchar,
    error varchar, census_sha256 varchar, continued_from varchar, planwise_version varchar,
    assumptions_json varchar)
"""
YEAR_LOG_DDL = """
create table if not exists planwise_year_log (
    run_id varchar, simulation_year integer, plugin varchar, optimization_level varchar,
    seconds double, rows_written bigint, dbt_invocations integer, attempts integer, completed_at timestamp)
"""
BUILD_DDL = """
create table if not exists planwise_build (
    run_id varchar, config_json varchar, census_path varchar, census_sha256 varchar, first_year integer,
    foundation_done boolean, continued_from varchar, planwise_version varchar, assumptions_json varchar)
"""


@attrs.frozen
class RunRecord:
    """What a run is made of: enough to refuse mixing it with another or resuming it with other inputs."""

    run_id: str
    config: dict
    census_path: str
    census_sha256: str
    plugin: str
    continued_from: str | None = None
    assumptions: dict = attrs.field(factory=dict)   # table -> {sha256, source, replaced}
    planwise_version: str | None = None


# Not compared as configuration: how the engines run, and where the parameter tables were read from (the
# tables themselves are compared by their recorded hashes, assumptions_json).
NOT_BEHAVIOUR = ("orchestration", "assumptions")


def behaviour(config: dict, *, end_year: bool = True) -> str:
    """The parts of a config that change results (not how the engines run, not where the tables came from)."""
    kept = {k: v for k, v in config.items() if k not in NOT_BEHAVIOUR}
    if not end_year:
        kept["simulation"] = {k: v for k, v in kept.get("simulation", {}).items() if k != "end_year"}
    return json.dumps(kept, sort_keys=True, default=str)


def config_differences(first: dict, second: dict, prefix: str = "", end_year: bool = False) -> list[str]:
    """Dotted keys whose values differ (orchestration aside, and end_year unless asked)."""
    if not prefix:  # compare as stored: JSON turns float keys into strings
        first, second = (json.loads(json.dumps(c, default=str)) for c in (first, second))
    out = []
    for key in sorted(set(first) | set(second), key=str):
        path = f"{prefix}{key}"
        if path in NOT_BEHAVIOUR or (path == "simulation.end_year" and not end_year):
            continue
        a, b = first.get(key), second.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += config_differences(a, b, f"{path}.", end_year)
        elif a != b:
            out.append(path)
    return out


def ensure_tables(con) -> None:
    con.execute(RUN_LOG_DDL)
    con.execute(YEAR_LOG_DDL)


def assumptions_differences(first: dict | None, second: dict | None) -> list[str]:
    """Tables whose recorded hash differs (or that one side lacks), sorted."""
    a, b = first or {}, second or {}
    return sorted(name for name in set(a) | set(b) if (a.get(name) or {}).get("sha256") != (b.get(name) or {}).get("sha256"))


def start(con, rec: RunRecord, start_year: int, end_year: int) -> None:
    """Record ``rec`` as running; rows a killed process left at running become interrupted."""
    ensure_tables(con)
    con.execute("update planwise_run_log set status = 'interrupted', finished_at = coalesce(finished_at, now()), "
                "error = coalesce(error, 'the process ended without finishing (killed?)') where status = 'running'")
    con.execute(inline("delete from planwise_run_log where run_id = ?", [rec.run_id]))
    con.execute(inline("insert into planwise_run_log (run_id, started_at, finished_at, status, start_year, end_year, "
                       "config_json, census_path, plugin, error, census_sha256, continued_from, planwise_version, "
                       "assumptions_json) values (?, now(), null, 'running', ?, ?, ?, ?, ?, null, ?, ?, ?, ?)",
                       [rec.run_id, start_year, end_year, json.dumps(rec.config), rec.census_path, rec.plugin,
                        rec.census_sha256, rec.continued_from, rec.planwise_version, _json_or_null(rec.assumptions)]))


def _json_or_null(value: dict) -> str | None:
    return json.dumps(value, sort_keys=True) if value else None


def finish(con, run_id: str, status: str, error: str | None = None) -> None:
    con.execute(inline("update planwise_run_log set finished_at = now(), status = ?, error = ? where run_id = ?",
                       [status, error, run_id]))


def copy_history(con, published: str) -> None:
    """Give the build every earlier attempt recorded in the published database."""
    with attached(con, published, "prev"):
        if table_exists(con, RUN_LOG, catalog="prev"):
            con.execute("insert into planwise_run_log by name select * from prev.planwise_run_log "
                        "where run_id not in (select run_id from planwise_run_log)")


def log_year(con, run_id: str, year: int, plugin: str, level: str, seconds: float, rows: int,
             dbt_invocations: int, attempts: int) -> None:
    """Record that ``run_id`` produced ``year`` (the successful attempt's engine, level and cost)."""
    con.execute(inline("insert into planwise_year_log values (?, ?, ?, ?, ?, ?, ?, ?, now())",
                       [run_id, year, plugin, level, seconds, rows, dbt_invocations, attempts]))


# -- which run produced these results ------------------------------------------------------


def results_run(con) -> dict | None:
    """The ``planwise_run_log`` row of the run that produced the database's results, or None.

    That is the run that logged the last simulated year (``planwise_year_log``, latest row of that year);
    without a year log, the latest run that completed, else the latest run. ``config`` holds its
    configuration parsed from ``config_json`` (None when the text is not JSON).
    """
    if not table_exists(con, RUN_LOG):
        return None
    found = []
    if table_exists(con, YEAR_LOG) and table_exists(con, "fct_workforce_snapshot"):
        found = dicts(con, """
            select r.* from planwise_run_log r join (
                select run_id from planwise_year_log
                where simulation_year = (select max(simulation_year) from fct_workforce_snapshot)
                order by completed_at desc limit 1) y using (run_id)""")
    if not found:
        found = dicts(con, "select * from planwise_run_log order by status = 'completed' desc, "
                           "started_at desc nulls last limit 1")
    return _with_config(found[0]) if found else None


def run_row(con, run_id: str) -> dict | None:
    """The log row of ``run_id`` (with ``config`` parsed), or None."""
    found = dicts(con, "select * from planwise_run_log where run_id = ?", [run_id]) if table_exists(con, RUN_LOG) else []
    return _with_config(found[0]) if found else None


def _with_config(run: dict) -> dict:
    try:
        run["config"] = json.loads(run.get("config_json") or "null")
    except ValueError:
        run["config"] = None
    return run


def year_rows(con, run_id: str | None = None) -> list[dict]:
    """The year-log row behind each year of the results (the latest per year: a resumed run logs only the years
    it ran), by year; with ``run_id``, only the rows that run wrote."""
    if not table_exists(con, YEAR_LOG):
        return []
    if run_id is not None:
        return dicts(con, "select * exclude (run_id), run_id from planwise_year_log where run_id = ? "
                          "qualify row_number() over (partition by simulation_year order by completed_at desc) = 1 "
                          "order by simulation_year", [run_id])
    return dicts(con, """
        select run_id, simulation_year, plugin, optimization_level, seconds, rows_written, dbt_invocations,
               attempts, completed_at
        from planwise_year_log where simulation_year in (select distinct simulation_year from fct_workforce_snapshot)
        qualify row_number() over (partition by simulation_year order by completed_at desc) = 1
        order by simulation_year""")


# -- the build record ----------------------------------------------------------------------


def write_build(con, rec: RunRecord, first_year: int, foundation_done: bool) -> None:
    con.execute(BUILD_DDL)
    con.execute("delete from planwise_build")
    con.execute(inline("insert into planwise_build values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [rec.run_id, json.dumps(rec.config), rec.census_path, rec.census_sha256, first_year,
                        foundation_done, rec.continued_from, rec.planwise_version, _json_or_null(rec.assumptions)]))


def foundation_done(con) -> None:
    con.execute("update planwise_build set foundation_done = true")


def read_build(con) -> dict | None:
    if not table_exists(con, "planwise_build"):
        return None
    cur = con.execute("select * from planwise_build")
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


# -- lineage ---------------------------------------------------------------------------------


def year_origins(con) -> dict[int, dict | None]:
    """For each year in the results: the run that produced it (its log row), or None when unrecorded."""
    years = completed_years(con)
    if not years:
        return {}
    if not (table_exists(con, "planwise_year_log") and table_exists(con, "planwise_run_log")):
        return {y: None for y in years}
    cur = con.execute("""
        select y.simulation_year, r.run_id, r.config_json, r.census_sha256, r.census_path, r.assumptions_json
        from (select simulation_year, run_id from planwise_year_log
              qualify row_number() over (partition by simulation_year order by completed_at desc) = 1) y
        join planwise_run_log r using (run_id)""")
    names = [d[0] for d in cur.description]
    found = {row[0]: dict(zip(names, row)) for row in cur.fetchall()}
    return {y: found.get(y) for y in years}


def lineage_problem(con) -> str | None:
    """Why the years in ``con`` are not one projection (unrecorded, gaps, other runs' inputs), or None."""
    origins = year_origins(con)
    if not origins:
        return None
    years = sorted(origins)
    unknown = [y for y in years if origins[y] is None or origins[y]["config_json"] is None]
    if unknown:
        return f"no run is recorded for year(s) {year_span(unknown)}"
    gaps = [y for y in range(years[0], years[-1] + 1) if y not in origins]
    if gaps:
        return f"year(s) {year_span(gaps)} are missing between {years[0]} and {years[-1]}"
    first = origins[years[0]]
    for year in years[1:]:
        other = origins[year]
        why = _mismatch(first, other)
        if why:
            return (f"years from {years[0]} come from run {first['run_id']} but {year} comes from run "
                    f"{other['run_id']}, made with {why}")
    return None


def _mismatch(a: dict, b: dict) -> str | None:
    ca, cb = (recorded_json(x["config_json"], "planwise_run_log", "config_json", x.get("run_id")) or {}
              for x in (a, b))
    if behaviour(ca, end_year=False) != behaviour(cb, end_year=False):
        return "a different configuration (" + ", ".join(config_differences(ca, cb)[:5]) + ")"
    tables = assumptions_differences(*(json.loads(x.get("assumptions_json") or "null") for x in (a, b)))
    if tables and a.get("assumptions_json") and b.get("assumptions_json"):
        return "different parameter tables (" + ", ".join(tables) + ")"
    if (a["census_sha256"] or a["census_path"]) != (b["census_sha256"] or b["census_path"]):
        return f"a different census ({b['census_path']} instead of {a['census_path']})"
    return None


def check_lineage(con, database) -> None:
    problem = lineage_problem(con)
    if problem:
        raise PlanwiseError(f"{database} mixes results of different runs: {problem}. Its years are not one "
                            "projection; run `planwise run` again from the start year to rebuild it.")


def year_span(years: list[int]) -> str:
    """Sorted distinct years as text: "2025-2029" when they run without a gap, else "2025, 2027"; "none" when empty."""
    if not years:
        return "none"
    return f"{years[0]}-{years[-1]}" if len(years) > 1 and years[-1] - years[0] == len(years) - 1 else \
        ", ".join(map(str, years))


def recorded_json(text: str | None, table: str, column: str, run_id) -> object:
    """A JSON column PlanWise wrote (run log, census load record); a damaged one is a PlanwiseError naming the
    table, column and run, never a traceback (docs/outputs.md)."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        raise PlanwiseError(f"{table}.{column} of run {run_id} is not valid JSON: the database was damaged or "
                            "edited outside PlanWise. Run the simulation again into a new database.") from None
