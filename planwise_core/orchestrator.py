"""The multi-year run: census, foundation, then each year through the selected engine, with fallback.

A run builds into its own file and replaces the database's results only when every year succeeded
(database/workspace.py); what it builds is decided before anything is touched (run_plan.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import signal
import threading
import time
import uuid
from pathlib import Path

import attrs

from planwise_core.assumptions import load_assumptions, resolve_assumptions
from planwise_core.census import builtin_census, census_options, load_census, publish_rejects, rejects_path_for
from planwise_core.census.report import log_census
from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.levels import Level, fallback_chain
from planwise_core.database import completed_years, connect, delete_years, run_lock, runlog, table_exists
from planwise_core.database.workspace import Workspace, carry_own_tables, mark
from planwise_core.errors import PlanwiseError, option
from planwise_core.hooks import Hooks
from planwise_core.manager import engine_names, get_plugin_manager, require_engine
from planwise_core.results import FoundationResult, YearResult
from planwise_core.database.checkpoints import CheckpointError, StateManager
from planwise_core.outputs.summary import census_load, ndt_year_lines, year_summary
from planwise_core.run_plan import CONTINUE, FRESH, Plan, plan_run

log = logging.getLogger("planwise.run")
REJECTS_IN_BUILD = "rejects.csv"

DEFAULT_DATABASE = Path("output/planwise.duckdb")
BUILTIN_CENSUS_SIZE = 10_000
BUILTIN_CENSUS_SEED = 42


class Simulation:
    """Runs one simulation into one database. Not reusable across databases."""

    def __init__(self, config: PlanwiseConfig, database: Path | str = DEFAULT_DATABASE, *, census: Path | str | None = None,
                 plugin: str | None = None, pm=None, performance_mode: bool = False, progress=None):
        self.config = config
        self.database = Path(database).resolve()
        self.workspace = Workspace(self.database)
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
        self.interrupted = False
        self.publishing = False
        self.plan: Plan | None = None
        self.progress = progress or (lambda *a, **k: None)
        self.state = StateManager(self.workspace.state_dir, enable_compression=orch.enable_compression,
                                  batch_size=orch.batch_size)
        self.run_id = f"run_{dt.datetime.now():%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"
        self.ctx = RunContext(config=config, database=self.workspace.build, run_id=self.run_id,
                              settings=self.chain[0].settings, performance_mode=performance_mode)

    @functools.cached_property
    def year_tables(self) -> tuple[str, ...]:
        """The year-partitioned result tables, as the dbt project declares them (its year_partition models)."""
        from planwise_core.engine.nodes import year_partitioned_models
        from planwise_core.engine.project import DbtProject

        return year_partitioned_models(DbtProject(self.workspace.build))

    @property
    def project_relations(self) -> set[str]:
        """Tables the project builds (models, seeds), the host's own, and the old seeds' names (``config_*``)."""
        from planwise_core.assumptions.spec import LEGACY_PREFIX, TABLES
        from planwise_core.engine.project import DbtProject, parsed_manifest

        nodes = parsed_manifest(DbtProject(self.workspace.build)).nodes.values()
        return {n.name for n in nodes if n.resource_type in ("model", "seed")} | {"planwise_build"} | {
            LEGACY_PREFIX + name for name in TABLES}

    # -- public -----------------------------------------------------------------------------

    def foundation_only(self) -> FoundationResult:
        """Census and foundation into a new build, published in place of the database's results."""
        with run_lock(self.database), self._sigint_guard():
            _check_dbt_project()
            self.workspace.check_published()
            assumptions = resolve_assumptions(self.config)  # refused before anything is written
            self.workspace.start_empty()
            self._load_census(self._census_path())
            self._load_assumptions(assumptions)
            result = self._foundation(Hooks(self.pm, self.chain[0].plugin))
            with connect(self.workspace.build) as con:
                runlog.ensure_tables(con)
            self._publish(run_logged=False)
            return result

    def run(self, resume: bool = False) -> dict:
        """Run every year; returns the run result dict (see docs/outputs.md).

        Refusals (bad inputs, nothing to resume, a foreign database) raise PlanwiseError before anything is
        written; a failed year returns ``success`` False; Ctrl-C raises KeyboardInterrupt. In every case but
        success the database's previous results are untouched and the run log says how the attempt ended.
        """
        started = time.perf_counter()
        self.ctx.monitor.start()
        with run_lock(self.database), self._sigint_guard():
            _check_dbt_project()
            self.plan = plan = plan_run(self.workspace, self.config, self._census_path(), self.census is not None,
                                        self.run_id, self.chain[0].plugin, resume)
            self._adopt(plan)
            self._log_start()
            try:
                years_done, foundation = self._prepare(plan)
                outcomes, failed = self._run_years(years_done)
                metrics = Hooks(self.pm, self.chain[0].plugin).collect_metrics(self.ctx)
                if failed:
                    self._log_end("failed", self.last_error)
                else:
                    self._publish()
            except KeyboardInterrupt:
                self._log_end("interrupted", "interrupted (Ctrl-C); it can be resumed")
                raise
            except BaseException as exc:
                self._log_end("failed", str(exc) or type(exc).__name__)
                raise
            with connect(self.workspace.build if failed else self.database) as con:
                summary = year_summary(con, self.config.simulation.start_year, self.config.simulation.end_year)
                census, ndt = census_load(con), ndt_year_lines(con)  # ndt: one line per year (docs/ndt.md)
        return {**self._result(started, outcomes, failed, foundation, metrics, summary, years_done), "census": census,
                "assumptions": plan.record.assumptions, "ndt": ndt}

    # -- steps ------------------------------------------------------------------------------

    def _census_path(self) -> Path:
        return self.census or builtin_census(self.database.parent, BUILTIN_CENSUS_SIZE, BUILTIN_CENSUS_SEED)

    def _adopt(self, plan: Plan) -> None:
        """Run as the plan says: a resume keeps its run id, a continuation its projection's start year."""
        self.run_id = self.ctx.run_id = plan.record.run_id
        self.config = self.ctx.config = plan.config
        if plan.kind == CONTINUE:
            log.info("continuing run %s's projection from its %s snapshot (years %s-%s kept)",
                     plan.record.continued_from, plan.first_new_year - 1, plan.kept[0], plan.kept[-1],
                     extra={"event": "continued", "run_id": plan.record.continued_from})

    def _load_census(self, path: Path):
        # Rejected rows are listed in the build folder; the list replaces the database's at publish.
        rejects = self.workspace.folder / REJECTS_IN_BUILD
        with connect(self.workspace.build) as con:
            summary = load_census(con, path, self.config.simulation.effective_census_date,
                                  **census_options(self.config), rejects_file=rejects, run_id=self.run_id)
        log_census(summary, rejects_path_for(self.database))  # where the list will be once the run is published
        self.ctx.monitor.checkpoint("census")
        return summary

    def _load_assumptions(self, assumptions) -> None:  # validated by resolve_assumptions
        with connect(self.workspace.build) as con:
            load_assumptions(con, assumptions)
        log.info("parameter tables loaded (replaced: %s)", ", ".join(assumptions.replaced()) or "none")

    def _foundation(self, hooks: Hooks) -> FoundationResult:
        self.progress("foundation")
        result = hooks.foundation_setup(self.ctx)
        self.ctx.monitor.checkpoint("foundation")
        self.progress("foundation_done")
        return result

    def _prepare(self, plan: Plan) -> tuple[list[int], FoundationResult | None]:
        """Make the build hold everything before the first year to simulate; returns the years it holds."""
        first = self.config.simulation.start_year
        if plan.kind == FRESH:
            self.workspace.start_empty()
        elif plan.kind == CONTINUE:
            self.workspace.start_from_published()
        with connect(self.workspace.build) as con:
            mark(con)
            runlog.start(con, plan.record, first, self.config.simulation.end_year)
            if plan.kind != FRESH and plan.census is None:
                runlog.write_build(con, plan.record, first, foundation_done=True)
        if plan.kind == CONTINUE:
            with connect(self.workspace.build) as con:
                delete_years(con, self.year_tables, plan.first_new_year, 9999)
                for year in plan.kept:
                    self.state.checkpoint(con, year)
            return list(plan.kept), None
        if plan.census is None:
            return self._resumable_years(), None
        with connect(self.workspace.build) as con:
            runlog.write_build(con, plan.record, first, foundation_done=False)
        self._load_census(plan.census)
        self._load_assumptions(plan.assumptions)
        with connect(self.workspace.build) as con:
            delete_years(con, self.year_tables, first, 9999)
        self.state.discard_from(first)
        foundation = self._foundation(Hooks(self.pm, self.chain[0].plugin))
        with connect(self.workspace.build) as con:
            runlog.foundation_done(con)
        return [], foundation

    def _resumable_years(self) -> list[int]:
        with connect(self.workspace.build) as con:
            done = self._checkpointed_years(con)
            # A year killed half-way may have left rows behind: drop everything after the last checkpoint.
            first_missing = (done[-1] + 1) if done else self.config.simulation.start_year
            delete_years(con, self.year_tables, first_missing, 9999)
        self.state.discard_from(first_missing)
        return done

    def _checkpointed_years(self, con) -> list[int]:
        """Years from start_year on, without a gap, that have a readable checkpoint and still match the build.

        A damaged checkpoint is not fatal: its year and the later ones are simulated again.
        """
        in_database = set(completed_years(con))
        expected, done = self.config.simulation.start_year, []
        for year in self.state.completed_years():
            if year != expected or year not in in_database:
                break
            done.append(year)
            expected += 1
        while done:
            try:
                if not self.state.matches_database(con, done[-1]):
                    raise PlanwiseError(f"Cannot resume: the {done[-1]} snapshot in {self.workspace.build} differs "
                                        f"from its checkpoint. Run without {option('resume')}.")
                break
            except CheckpointError as exc:
                log.warning("%s: simulating %s again", exc, done[-1])
                done.pop()
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
                    self._stop_if_interrupted()
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
                self._stop_if_interrupted()
                with connect(self.workspace.build) as con:
                    delete_years(con, self.year_tables, year)
                if attempt == retries:
                    raise
                time.sleep(orch.retry_backoff_seconds * 2 ** attempt)
        raise AssertionError("unreachable")

    # -- interruption -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _sigint_guard(self):
        """Ctrl-C stops the run: remembered, so that a step which swallowed it is neither retried nor fallen back."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def interrupted(signum, frame):
            self.interrupted = True
            if not self.publishing:  # once publishing, the run finishes: the new results are going in place
                raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, interrupted)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _stop_if_interrupted(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    # -- bookkeeping ------------------------------------------------------------------------

    def _log_start(self) -> None:
        """The database's run log says this attempt is running (the database is created when new)."""
        with connect(self.database) as con:
            mark(con)
            runlog.start(con, self.plan.record, self.config.simulation.start_year, self.config.simulation.end_year)

    def _log_end(self, status: str, error: str | None) -> None:
        """Record how the attempt ended in the database's run log; never hides the error that ended it."""
        try:
            with connect(self.database) as con:
                runlog.finish(con, self.run_id, status, error)
        except Exception as exc:  # noqa: BLE001 - the original failure matters more
            log.error("could not record the run as %s in %s: %s", status, self.database, exc)

    def _publish(self, run_logged: bool = True) -> None:
        """The build becomes the database: with every earlier attempt's log row, this run's as completed."""
        self.publishing = True
        with connect(self.workspace.build) as con:
            mark(con)
            if self.database.exists():
                runlog.copy_history(con, str(self.database))
                carry_own_tables(con, self.database, self.project_relations)
            if run_logged:
                runlog.finish(con, self.run_id, "completed")
            con.execute("drop table if exists planwise_build")
            published_rejects = (publish_rejects(con, self.workspace.folder / REJECTS_IN_BUILD,
                                                 rejects_path_for(self.database), self.plan is None or
                                                 self.plan.census is not None)
                                 if table_exists(con, "census_load", schema="raw") else lambda: None)
            con.execute("checkpoint")
        self.workspace.publish()
        published_rejects()
        self.ctx.monitor.checkpoint("publish")

    def _log_year(self, result: YearResult, level: Level, attempts: int) -> None:
        with connect(self.workspace.build) as con:
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
            "continued_from": ({"run_id": self.plan.record.continued_from, "year": self.plan.first_new_year - 1}
                               if self.plan.kind == CONTINUE else None),
            "performance_metrics": perf,
            "plugin_metrics": {m.plugin: m.metrics for m in metrics},
            "state_metrics": self.state.get_performance_metrics(),
            "summary": summary,
        }


def _check_dbt_project() -> None:
    """The dbt project (PLANWISE_DBT_DIR) must be there before anything is deleted or built."""
    from planwise_core.engine.base import check_dbt_project

    problems = check_dbt_project()
    if problems:
        raise PlanwiseError("; ".join(problems))
