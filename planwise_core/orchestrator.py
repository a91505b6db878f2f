"""The multi-year run: census, foundation, then each year through the selected engine, with fallback."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
import uuid
from pathlib import Path

import attrs

from planwise_core.census import builtin_census, capacity_for, load_census, rejects_path_for, validate_census
from planwise_core.census.report import log_census
from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.levels import Level, fallback_chain
from planwise_core.database import completed_years, connect, delete_years, run_lock, table_exists
from planwise_core.errors import PlanwiseError
from planwise_core.hooks import Hooks
from planwise_core.manager import engine_names, get_plugin_manager, require_engine
from planwise_core.results import FoundationResult, YearResult
from planwise_core.database.checkpoints import StateManager
from planwise_core.outputs.summary import census_load, year_summary

log = logging.getLogger("planwise.run")

DEFAULT_DATABASE = Path("output/planwise.duckdb")
BUILTIN_CENSUS_SIZE = 10_000
BUILTIN_CENSUS_SEED = 42


RUN_LOG_DDL = """
create table if not exists planwise_run_log (
    run_id varchar primary key, started_at timestamp, finished_at timestamp, status varchar,
    start_year integer, end_year integer, config_json varchar, census_path varchar, plugin varchar)
"""
YEAR_LOG_DDL = """
create table if not exists planwise_year_log (
    run_id varchar, simulation_year integer, plugin varchar, optimization_level varchar,
    seconds double, rows_written bigint, dbt_invocations integer, attempts integer, completed_at timestamp)
"""


def _behaviour(config: dict) -> str:
    """The parts of a config that change results (not how the engines run)."""
    return json.dumps({k: v for k, v in config.items() if k != "orchestration"}, sort_keys=True, default=str)


class Simulation:
    """Runs one simulation into one database. Not reusable across databases."""

    def __init__(self, config: PlanwiseConfig, database: Path | str = DEFAULT_DATABASE, *, census: Path | str | None = None,
                 plugin: str | None = None, pm=None, performance_mode: bool = False, progress=None):
        self.config = config
        self.database = Path(database).resolve()
        self.census = Path(census) if census else None
        self.pm = pm or get_plugin_manager()
        orch = config.orchestration
        if plugin:
            require_engine(self.pm, plugin)
        chain = fallback_chain(orch.optimization_level, orch.max_workers, plugin)
        require_engine(self.pm, chain[0].plugin)
        # Lower rungs whose engine is blocked or missing are skipped, not fatal.
        available = set(engine_names(self.pm))
        self.chain = [chain[0]] + [lvl for lvl in chain[1:] if lvl.plugin in available]
        self.performance_mode = performance_mode
        self.last_error: str | None = None
        self.progress = progress or (lambda *a, **k: None)
        self.state = StateManager.for_database(self.database, enable_compression=orch.enable_compression,
                                               batch_size=orch.batch_size)
        self.run_id = f"run_{dt.datetime.now():%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"
        self.ctx = RunContext(config=config, database=self.database, run_id=self.run_id,
                              settings=self.chain[0].settings, performance_mode=performance_mode)

    @functools.cached_property
    def year_tables(self) -> tuple[str, ...]:
        """The year-partitioned result tables, as the dbt project declares them (its incremental models)."""
        from planwise_core.engine.nodes import year_partitioned_models
        from planwise_core.engine.project import DbtProject

        return year_partitioned_models(DbtProject(self.database))

    # -- public -----------------------------------------------------------------------------

    def foundation_only(self) -> FoundationResult:
        with run_lock(self.database):
            self._load_census()
            return self._foundation(Hooks(self.pm, self.chain[0].plugin))

    def run(self, resume: bool = False) -> dict:
        """Run every year; returns the run result dict (see docs/outputs.md)."""
        started = time.perf_counter()
        self.ctx.monitor.start()
        with run_lock(self.database):
            years_done, foundation = self._prepare(resume)
            outcomes, failed = self._run_years(years_done)
            metrics = Hooks(self.pm, self.chain[0].plugin).collect_metrics(self.ctx)
            status = "completed" if not failed else "failed"
            self._finish_run_log(status)
            with connect(self.database) as con:
                summary = year_summary(con, self.config.simulation.start_year, self.config.simulation.end_year)
                census = census_load(con)
        return {**self._result(started, outcomes, failed, foundation, metrics, summary, years_done), "census": census}

    # -- steps ------------------------------------------------------------------------------

    def _load_census(self):
        path = self.census or builtin_census(self.database.parent, BUILTIN_CENSUS_SIZE, BUILTIN_CENSUS_SEED)
        options = {"on_invalid_rows": self.config.census.on_invalid_rows, "capacity": capacity_for(self.config)}
        # Checked before the database is opened: a refused census never creates or touches it.
        validate_census(path, self.config.simulation.effective_census_date, **options)
        with connect(self.database) as con:
            summary = load_census(con, path, self.config.simulation.effective_census_date, **options,
                                  rejects_file=rejects_path_for(self.database), run_id=self.run_id)
        log_census(summary, rejects_path_for(self.database))
        self.ctx.monitor.checkpoint("census")
        return summary

    def _foundation(self, hooks: Hooks) -> FoundationResult:
        self.progress("foundation")
        result = hooks.foundation_setup(self.ctx)
        self.ctx.monitor.checkpoint("foundation")
        self.progress("foundation_done")
        return result

    def _prepare(self, resume: bool) -> tuple[list[int], FoundationResult | None]:
        sim = self.config.simulation
        if resume:
            done = self._resumable_years()
            self._start_run_log()
            return done, None
        self._load_census()
        # A fresh run replaces every year it will simulate and any later ones from an older run.
        with connect(self.database) as con:
            delete_years(con, self.year_tables, sim.start_year, 9999)
        self.state.discard_from(sim.start_year)
        self._start_run_log()
        return [], self._foundation(Hooks(self.pm, self.chain[0].plugin))

    def _resumable_years(self) -> list[int]:
        with connect(self.database) as con:
            if not table_exists(con, "planwise_run_log") or not table_exists(con, "int_baseline_workforce"):
                raise PlanwiseError(f"Nothing to resume in {self.database}: run without --resume first.")
            last = con.execute("select config_json from planwise_run_log order by started_at desc limit 1").fetchone()
            if last is None or _behaviour(json.loads(last[0])) != _behaviour(self.config.to_dict()):
                raise PlanwiseError("Cannot resume: the configuration differs from the interrupted run's. "
                                    "Use the same --config and options, or run without --resume.")
            done = self._checkpointed_years(con)
            # A year killed half-way may have left rows behind: drop everything after the last checkpoint.
            first_missing = (done[-1] + 1) if done else self.config.simulation.start_year
            delete_years(con, self.year_tables, first_missing, 9999)
        self.state.discard_from(first_missing)
        return done

    def _checkpointed_years(self, con) -> list[int]:
        """Years from start_year on, without a gap, that have a checkpoint and still match the database."""
        in_database = set(completed_years(con))
        expected, done = self.config.simulation.start_year, []
        for year in self.state.completed_years():
            if year != expected or year not in in_database:
                break
            done.append(year)
            expected += 1
        if done and not self.state.matches_database(con, done[-1]):
            raise PlanwiseError(f"Cannot resume: the {done[-1]} snapshot in {self.database} differs from its "
                                "checkpoint. Run without --resume.")
        return done

    def _run_years(self, years_done: list[int]) -> tuple[list[tuple[YearResult, Level, int]], list[int]]:
        sim, orch = self.config.simulation, self.config.orchestration
        outcomes, failed, rung = [], [], 0
        for year in range(sim.start_year, sim.end_year + 1):
            if year in years_done:
                continue
            while True:
                level = self.chain[rung]
                try:
                    result, attempts = self._attempt_year(level, year)
                    outcomes.append((result, level, attempts))
                    break
                except Exception as exc:  # an engine or a third-party plugin failed: contain it
                    log.warning("year %s failed at level %s (%s): %s", year, level.name, level.plugin, exc)
                    if orch.fail_fast or rung + 1 == len(self.chain):
                        failed.append(year)
                        self.last_error = f"{year}: {exc}"
                        break
                    rung += 1
            if failed:
                failed.extend(range(year + 1, sim.end_year + 1))
                break
        return outcomes, failed

    def _attempt_year(self, level: Level, year: int) -> tuple[YearResult, int]:
        orch = self.config.orchestration
        retries = 0 if orch.fail_fast else orch.max_retries
        hooks = Hooks(self.pm, level.plugin)
        self.ctx.settings = level.settings
        for attempt in range(retries + 1):
            try:
                self.progress("year", year=year, level=level.name)
                if year > self.config.simulation.start_year:
                    hooks.transition_year(self.ctx, year - 1, year)
                result = hooks.process_year(self.ctx, year)
                self._log_year(result, level, attempt + 1)
                return result, attempt + 1
            except Exception:
                with connect(self.database) as con:
                    delete_years(con, self.year_tables, year)
                if attempt == retries:
                    raise
                time.sleep(orch.retry_backoff_seconds * 2 ** attempt)
        raise AssertionError("unreachable")

    # -- bookkeeping ------------------------------------------------------------------------

    def _start_run_log(self) -> None:
        sim = self.config.simulation
        with connect(self.database) as con:
            con.execute(RUN_LOG_DDL)
            con.execute(YEAR_LOG_DDL)
            con.execute("insert into planwise_run_log values (?, now(), null, 'running', ?, ?, ?, ?, ?)",
                        [self.run_id, sim.start_year, sim.end_year, json.dumps(self.config.to_dict()),
                         str(self.census or "builtin"), self.chain[0].plugin])

    def _finish_run_log(self, status: str) -> None:
        with connect(self.database) as con:
            con.execute("update planwise_run_log set finished_at = now(), status = ? where run_id = ?",
                        [status, self.run_id])

    def _log_year(self, result: YearResult, level: Level, attempts: int) -> None:
        with connect(self.database) as con:
            self.state.checkpoint(con, result.year)
            con.execute("insert into planwise_year_log values (?, ?, ?, ?, ?, ?, ?, ?, now())",
                        [self.run_id, result.year, result.plugin, level.name, result.seconds, result.rows,
                         result.dbt_invocations, attempts])
        self.ctx.monitor.checkpoint(f"year_{result.year}")
        log.info("year %s completed by %s (%s) in %.2fs", result.year, result.plugin, level.name, result.seconds,
                 extra={"event": "year_completed", "year": result.year, "plugin": result.plugin,
                        "optimization_level": level.name, "seconds": round(result.seconds, 3)})
        self.progress("year_done", year=result.year, result=result)

    def _result(self, started, outcomes, failed, foundation, metrics, summary, years_done) -> dict:
        total = time.perf_counter() - started
        completed = sorted(years_done + [r.year for r, _, _ in outcomes])
        rows = sum(r.rows for r, _, _ in outcomes)
        planned = self.config.simulation.end_year - self.config.simulation.start_year + 1
        year_detail = {str(r.year): {"plugin": r.plugin, "optimization_level": lvl.name, "seconds": round(r.seconds, 3),
                                     "rows": r.rows, "dbt_invocations": r.dbt_invocations, "attempts": att,
                                     **({"steps": [attrs.asdict(s) for s in r.steps]} if self.performance_mode else {})}
                       for r, lvl, att in outcomes}
        perf = {"records_per_second": round(rows / total, 1) if total else 0.0,
                "year_times": {y: d["seconds"] for y, d in year_detail.items()},
                "monitor": self.ctx.monitor.get_summary()}
        if foundation is not None:
            perf["foundation_seconds"] = round(foundation.seconds, 3)
            perf["foundation_steps"] = [attrs.asdict(s) for s in foundation.steps]
        return {
            "simulation_id": self.run_id, "success": not failed, "database": str(self.database),
            "completed_years": completed, "failed_years": failed,
            "success_rate": round(len(completed) / planned, 4) if planned else 0.0,
            "total_execution_time": round(total, 3), "years": year_detail,
            "resumed_years": years_done, "error": self.last_error,
            "performance_metrics": perf,
            "plugin_metrics": {m.plugin: m.metrics for m in metrics},
            "state_metrics": self.state.get_performance_metrics(),
            "summary": summary,
        }
