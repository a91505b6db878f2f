"""Deciding what a run does before it touches anything: a new projection, a continuation, or a resume.

* fresh: the database holds no year before the first one asked for, so the run builds a whole new
  projection (census, foundation, every year) and, on success, replaces every earlier result.
* continue: ``--start-year S`` on a database whose projection began before ``S``. Allowed only when the
  database's years are one projection, it holds ``S - 1``, and the configuration (its start year aside)
  and the census are the ones it was made with; the run then copies the database, keeps the years
  before ``S`` and simulates on from the ``S - 1`` snapshot. Anything else is refused with what to do.
* resume: continue exactly the interrupted build: same configuration, same census (checked by content),
  its own run id; setup (census, foundation) is redone from the recorded census if it never finished.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import attrs
import duckdb

from planwise_core.assumptions import AssumptionSet, resolve_assumptions
from planwise_core.census.load import census_options
from planwise_core.census.validate import validate_census
from planwise_core.config import PlanwiseConfig
from planwise_core.database import runlog
from planwise_core.database.connection import completed_years
from planwise_core.database.runlog import RunRecord, assumptions_differences, behaviour, config_differences
from planwise_core.database.sql import open_read_only
from planwise_core.database.workspace import Workspace
from planwise_core.errors import PlanwiseError, option
from planwise_core.fileio import file_sha256
from planwise_core.names import planwise_version

FRESH, CONTINUE, RESUME = "fresh", "continue", "resume"


@attrs.frozen
class Plan:
    kind: str
    record: RunRecord
    config: PlanwiseConfig          # the configuration the years run with (a continuation's start year)
    census: Path | None = None      # to load (None: the build already holds the foundation)
    kept: tuple[int, ...] = ()      # a continuation's years taken over from the database
    first_new_year: int | None = None
    assumptions: AssumptionSet | None = None  # the parameter tables to load with the census


def plan_run(ws: Workspace, config: PlanwiseConfig, census: Path, census_given: bool, run_id: str, plugin: str,
             resume: bool) -> Plan:
    published = ws.check_published()
    assumptions = resolve_assumptions(config)  # every table's problems at once, before anything is written
    if resume:
        return attrs.evolve(_resume(ws, config, census if census_given else None, plugin, published, assumptions),
                            assumptions=assumptions)
    validate_census(census, config.simulation.effective_census_date, **census_options(config))  # refused, not failed
    record = RunRecord(run_id, config.to_dict(), str(census), file_sha256(census), plugin,
                       assumptions=assumptions.provenance(), planwise_version=planwise_version())
    start = config.simulation.start_year
    origins, problem = _origins(ws.database) if published else ({}, None)
    if not any(year < start for year in origins):
        return Plan(FRESH, record, config, census=census, assumptions=assumptions)
    return attrs.evolve(_continuation(ws, config, record, origins, problem, start), assumptions=assumptions)


def _origins(database: Path) -> tuple[dict, str | None]:
    with contextlib.closing(open_read_only(database, "")) as con:
        origins = runlog.year_origins(con)
        return origins, (runlog.lineage_problem(con) if origins else None)


def _continuation(ws: Workspace, config: PlanwiseConfig, record: RunRecord, origins: dict, problem: str | None,
                  start: int) -> Plan:
    db = ws.database
    years = sorted(origins)
    others = (f"To simulate from {start} with these inputs as a new projection, pass another {option('database')} "
              f"(or remove {db.name}); to re-run the whole projection, use {option('start_year')} {years[0]}.")
    if problem:
        raise PlanwiseError(f"{db} holds years that are not one projection ({problem}), so a run from {start} "
                            f"cannot continue it. {others}")
    if start - 1 not in origins:
        raise PlanwiseError(f"{db} holds {years[0]}-{years[-1]}; a run from {start} must continue from the "
                            f"{start - 1} snapshot, which it does not hold. To continue it, use {option('start_year')} "
                            f"{years[-1] + 1}. {others}")
    last = origins[start - 1]
    made_with = json.loads(last["config_json"])
    first = made_with["simulation"]["start_year"]
    effective = config.with_overrides(**{"simulation.start_year": first})
    if behaviour(made_with, end_year=False) != behaviour(effective.to_dict(), end_year=False):
        keys = ", ".join(config_differences(made_with, effective.to_dict())[:6])
        raise PlanwiseError(f"{db} holds {years[0]}-{years[-1]} from run {last['run_id']}, made with another "
                            f"configuration ({keys} differ): continuing it from {start - 1} would splice two "
                            f"projections together. To continue it, use the configuration it was made with. "
                            f"{others}")
    if last["census_sha256"] != record.census_sha256:
        raise PlanwiseError(f"{db} holds {years[0]}-{years[-1]} from run {last['run_id']}, made with another "
                            f"census ({last['census_path']}): continuing it from {start - 1} with "
                            f"{record.census_path} would splice two projections together. To continue it, pass "
                            f"{option('census')} {last['census_path']}. {others}")
    tables = _tables_changed(last.get("assumptions_json"), record.assumptions)
    if tables:
        raise PlanwiseError(f"{db} holds {years[0]}-{years[-1]} from run {last['run_id']}, made with other parameter "
                            f"tables ({', '.join(tables)} differ): continuing it from {start - 1} would splice two "
                            f"projections together. To continue it, use the assumptions it was made with. {others}")
    record = attrs.evolve(record, config=effective.to_dict(), continued_from=last["run_id"])
    return Plan(CONTINUE, record, effective, kept=tuple(range(first, start)), first_new_year=start)


def _tables_changed(recorded: str | None, current: dict) -> list[str]:
    """Tables whose hash differs from the ones the run recorded (every run records them)."""
    return assumptions_differences(json.loads(recorded or "{}"), current)


def _resume(ws: Workspace, config: PlanwiseConfig, census: Path | None, plugin: str, published: bool,
            assumptions: AssumptionSet) -> Plan:
    build = _read_build(ws)
    if build is None:
        _nothing_to_resume(ws, config, published)
    made_with = json.loads(build["config_json"])
    effective = config
    if build["continued_from"]:
        effective = config.with_overrides(**{"simulation.start_year": build["first_year"]})
    if behaviour(made_with) != behaviour(effective.to_dict()):
        keys = ", ".join(config_differences(made_with, effective.to_dict(), end_year=True)[:6])
        raise PlanwiseError(f"Cannot resume: the configuration differs from the interrupted run's ({keys}). "
                            f"Use the same configuration and options, or run without {option('resume')}.")
    recorded = Path(build["census_path"])
    if census is not None and not census.is_file():
        validate_census(census, config.simulation.effective_census_date, **census_options(config))  # file missing?
    if census is not None and file_sha256(census) != build["census_sha256"]:
        raise PlanwiseError(f"Cannot resume with {option('census')} {census}: run {build['run_id']} was started with the "
                            f"census {recorded}, whose content differs. Resume without {option('census')} to continue it "
                            f"with {recorded}, or run without {option('resume')} to start over with {census}.")
    need_census = not build["foundation_done"]
    if need_census and not (recorded.is_file() and file_sha256(recorded) == build["census_sha256"]):
        raise PlanwiseError(f"Cannot resume run {build['run_id']}: its setup did not finish and its census "
                            f"{recorded} is missing or changed since. Run without {option('resume')}.")
    tables = _tables_changed(build.get("assumptions_json"), assumptions.provenance())
    if tables:
        raise PlanwiseError(f"Cannot resume: the parameter tables differ from the interrupted run's "
                            f"({', '.join(tables)}). Use the same assumptions, or run without {option('resume')}.")
    record = RunRecord(build["run_id"], made_with, str(recorded), build["census_sha256"], plugin,
                       build["continued_from"], assumptions=assumptions.provenance(),
                       planwise_version=planwise_version())
    return Plan(RESUME, record, effective, census=recorded if need_census else None)


def _read_build(ws: Workspace) -> dict | None:
    if not ws.has_build():
        return None
    try:
        with contextlib.closing(open_read_only(ws.build, "")) as con:
            return runlog.read_build(con)
    except (PlanwiseError, duckdb.Error):  # killed while the build file was being created or copied
        return None


def _nothing_to_resume(ws: Workspace, config: PlanwiseConfig, published: bool) -> None:
    last = None
    if published:
        with contextlib.closing(open_read_only(ws.database, "")) as con:
            run = runlog.results_run(con) if completed_years(con) else None
            last = run if run and run["status"] == "completed" and run["config"] is not None else None
    if last and behaviour(last["config"]) != behaviour(config.to_dict()):
        keys = ", ".join(config_differences(last["config"], config.to_dict(), end_year=True)[:6])
        raise PlanwiseError(f"Cannot resume: the configuration differs from the last run's ({keys}), which "
                            f"completed. Run without {option('resume')} to replace its results.")
    why = f"its last run {last['run_id']} completed" if last else "no interrupted run was found"
    raise PlanwiseError(f"Nothing to resume in {ws.database}: {why}. Run without {option('resume')}.")
