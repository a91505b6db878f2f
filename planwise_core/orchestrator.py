"""The multi-year run: census, foundation, then each year through the selected engine, with fallback.

A run builds into its own file and replaces the database's results only when every year succeeded
(database/workspace.py); what it builds is decided before anything is touched (run_plan.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import attrs

from planwise_core.assumptions import load_assumptions, resolve_assumptions
from planwise_core.bookkeeping import HeldBuild, log_end, log_start, record_year
from planwise_core.census import builtin_census, census_options, load_census, publish_rejects, rejects_path_for
from planwise_core.census.report import log_census
from planwise_core.config import PlanwiseConfig
from planwise_core.context import RunContext
from planwise_core.levels import Level, fallback_chain
from planwise_core.database import completed_years, connect, run_lock, runlog, table_exists
from planwise_core.database.workspace import Workspace, carry_own_tables, drop_build_record, mark, publish_guard
from planwise_core.engines import level_engines
from planwise_core.events import FoundationDone, FoundationStarted, YearDone, YearStarted
from planwise_core.errors import PlanwiseError, PluginError, is_data_error, option
from planwise_core.hooks import Hooks
from planwise_core.manager import engine_choice, engine_names, get_plugin_manager, require_engine
from planwise_core.names import DEFAULT_DATABASE
from planwise_core.results import FoundationResult, YearResult
from planwise_core.run_result import RunResult, YearOutcome, performance_metrics
from planwise_core.database.checkpoints import CheckpointError, StateManager
from planwise_core.outputs.summary import census_load, ndt_year_lines, year_summary
from planwise_core.run_plan import CONTINUE, FRESH, Plan, plan_run

log = logging.getLogger("planwise.run")
REJECTS_IN_BUILD = "rejects.csv"



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
        self.chain = _chain(self.pm, orch, plugin)
        self.hooks = {level.plugin: Hooks(self.pm, level.plugin) for level in self.chain}
        self.performance_mode = performance_mode
        self.last_error: str | None = None
        self.interrupted: str | None = None  # the signal that stopped the run: "Ctrl-C" or "SIGTERM"
        self.publishing = False
        self.plan: Plan | None = None
        self.progress = progress or (lambda event: None)  # called with each events.RunEvent
        self.state = StateManager(self.workspace.state_dir, enable_compression=orch.enable_compression,
                                  batch_size=orch.batch_size)
        self.run_id = f"run_{dt.datetime.now():%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"
        self.ctx = RunContext(config=config, database=self.workspace.build, run_id=self.run_id,
                              settings=self.chain[0].settings, performance_mode=performance_mode)
        self.held = HeldBuild(self.workspace.build)  # the build open across the years (bookkeeping.py)

    @property
    def engine(self) -> Hooks:
        """The first level's engine: its year tables and relations are the run's."""
        return self.hooks[self.chain[0].plugin]

    def _discard_years(self, first: int, last: int | None = None, level: Level | None = None) -> None:
        self.hooks[(level or self.chain[0]).plugin].discard_years(self.ctx, first, last)

    @contextlib.contextmanager
    def _engines_held(self):
        """Each engine's process lock, and its check of the configuration before anything is written."""
        with contextlib.ExitStack() as stack:
            for hooks in self.hooks.values():
                stack.enter_context(hooks.lock())
            problems = [p for hooks in self.hooks.values() for p in hooks.check(self.config)]
            if problems:
                raise PlanwiseError("; ".join(dict.fromkeys(problems)))
            yield

    # -- public -----------------------------------------------------------------------------

    def foundation_only(self) -> FoundationResult:
        """Census and foundation into a new build, published in place of the database's results."""
        with run_lock(self.database), self._sigint_guard(), self._engines_held():
            self.workspace.check_published()
            assumptions = resolve_assumptions(self.config)  # refused before anything is written
            self.workspace.start_empty()
            self._load_census(self._census_path())
            self._load_assumptions(assumptions)
            result = self._foundation(self.engine)
            with connect(self.workspace.build) as con:
                runlog.ensure_tables(con)
            self._publish(run_logged=False)
            with connect(self.database) as con:
                drop_build_record(con)
            return result

    def run(self, resume: bool = False) -> RunResult:
        """Run every year; returns the run result (``to_dict()``: the JSON shape of docs/outputs.md).

        Refusals (bad inputs, nothing to resume, a foreign database) raise PlanwiseError before anything is
        written; a failed year returns ``success`` False; Ctrl-C raises KeyboardInterrupt. In every case but
        success the database's previous results are untouched and the run log says how the attempt ended.
        """
        started = time.perf_counter()
        self.ctx.monitor.start()
        with run_lock(self.database), self._sigint_guard(), self._engines_held():
            self.plan = plan = plan_run(self.workspace, self.config, self._census_path(), self.census is not None,
                                        self.run_id, self.chain[0].plugin, resume)
            self._adopt(plan)
            self._log_start()
            try:
                try:
                    years_done, foundation = self._prepare(plan)
                    outcomes, failed = self._run_years(years_done)
                except BaseException:
                    self.held.release()
                    self._metrics_after_failure()
                    raise
                metrics = self.engine.collect_metrics(self.ctx)
                if failed:
                    self._log_end("failed", self.last_error)
                else:
                    self._publish()
            except BaseException as exc:  # DuckDB ends a statement the signal hit with an error of its own
                stopped = isinstance(exc, KeyboardInterrupt) or (self.interrupted and not self.publishing)
                self._log_end(*(("interrupted", f"interrupted ({self.interrupted or 'Ctrl-C'}); it can be resumed")
                                if stopped else ("failed", str(exc) or type(exc).__name__)))
                if stopped and not isinstance(exc, KeyboardInterrupt):
                    raise KeyboardInterrupt from exc  # ("Query interrupted"): still an interruption, resumable
                raise
            finally:
                self.held.release()
            with connect(self.workspace.build if failed else self.database) as con:
                if not failed:
                    drop_build_record(con)  # in the connection that reads the summary: one open of the file
                summary = year_summary(con, self.config.simulation.start_year, self.config.simulation.end_year)
                census, ndt = census_load(con), ndt_year_lines(con)  # ndt: one line per year (docs/ndt.md)
        return self._result(started, outcomes, failed, foundation, metrics, summary, years_done, census, ndt)

    # -- steps ------------------------------------------------------------------------------

    def _census_path(self) -> Path:
        return self.census or builtin_census(self.database.parent)

    def _adopt(self, plan: Plan) -> None:
        """Run as the plan says: a resume keeps its run id, a continuation its projection's start year."""
        self.run_id, self.config = plan.record.run_id, plan.config
        self.ctx = attrs.evolve(self.ctx, run_id=self.run_id, config=self.config)
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
        self.progress(FoundationStarted())
        result = hooks.foundation_setup(self.ctx)
        self._stop_if_interrupted()
        self.ctx.monitor.checkpoint("foundation")
        self.progress(FoundationDone())
        return result

    def _prepare(self, plan: Plan) -> tuple[list[int], FoundationResult | None]:
        """Make the build hold everything before the first year to simulate; returns the years it holds."""
        first = self.config.simulation.start_year
        if plan.kind == FRESH:
            self.workspace.start_empty()
        elif plan.kind == CONTINUE:
            self.workspace.start_from_published()
        self.held.hold_for(self.engine)
        with connect(self.workspace.build) as con:
            mark(con)
            runlog.start(con, plan.record, first, self.config.simulation.end_year)
            if plan.kind != FRESH and plan.census is None:
                runlog.write_build(con, plan.record, first, foundation_done=True)
        if plan.kind == CONTINUE:
            self._discard_years(plan.first_new_year, 9999)
            with connect(self.workspace.build) as con:
                for year in plan.kept:
                    self.state.checkpoint(con, year)
            return list(plan.kept), None
        if plan.census is None:
            return self._resumable_years(), None
        with connect(self.workspace.build) as con:
            runlog.write_build(con, plan.record, first, foundation_done=False)
        self._load_census(plan.census)
        self._load_assumptions(plan.assumptions)
        self._discard_years(first, 9999)
        self.state.discard_from(first)
        foundation = self._foundation(self.engine)
        with connect(self.workspace.build) as con:
            runlog.foundation_done(con)
            con.execute("checkpoint")
        return [], foundation

    def _resumable_years(self) -> list[int]:
        with connect(self.workspace.build) as con:
            done = self._checkpointed_years(con)
            # A year killed half-way may have left rows behind: drop everything after the last checkpoint.
            first_missing = (done[-1] + 1) if done else self.config.simulation.start_year
        self._discard_years(first_missing, 9999)
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
                except Exception as exc:  # noqa: BLE001 - an engine or a third-party plugin failed: contain it
                    self._stop_if_interrupted()
                    log.warning("year %s failed at level %s (%s): %s", year, level.name, level.plugin, exc)
                    if orch.fail_fast or rung + 1 == len(self.chain) or is_data_error(exc):
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
        hooks = self.hooks[level.plugin]
        ctx = attrs.evolve(self.ctx, settings=level.settings)  # engine_state is shared: the same dict
        for attempt in range(retries + 1):
            try:
                self.progress(YearStarted(year, level.name))
                self.held.hold_for(hooks)  # released for an engine that cannot share the file
                if year > self.config.simulation.start_year:
                    hooks.transition_year(ctx, year - 1, year)
                result = hooks.process_year(ctx, year)
                self._stop_if_interrupted()  # a signal a library swallowed still stops the run
                self._log_year(result, level, attempt + 1)
                return result, attempt + 1
            except Exception as exc:
                self._stop_if_interrupted()
                self._discard_years(year, level=level)
                if attempt == retries or is_data_error(exc):
                    raise
                time.sleep(orch.retry_backoff_seconds * 2 ** attempt)
        raise AssertionError("unreachable")

    def _metrics_after_failure(self) -> None:
        """collect_metrics also after a failed foundation or year; never hides the failure that ended the run."""
        try:
            self.engine.collect_metrics(self.ctx)
        except Exception as exc:  # noqa: BLE001 - the original failure matters more
            log.error("collect_metrics failed after the run failed: %s", exc)

    # -- interruption -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _sigint_guard(self):
        """Ctrl-C or SIGTERM stops the run (logged interrupted); remembered, so a step that swallowed it is not retried."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def interrupted(signum, frame):
            self.interrupted = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
            if not self.publishing:  # once publishing, the run finishes: the new results are going in place
                raise KeyboardInterrupt

        def unraisable(info):  # raised in a finalizer (dbt's pools) and dropped: remembered, stops after the step
            None if self.interrupted and isinstance(info.exc_value, KeyboardInterrupt) else hook(info)

        previous = {sig: signal.signal(sig, interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
        hook, sys.unraisablehook = sys.unraisablehook, unraisable
        try:
            yield
        finally:
            sys.unraisablehook = hook
            [signal.signal(sig, handler) for sig, handler in previous.items()]

    def _stop_if_interrupted(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    # -- bookkeeping ------------------------------------------------------------------------

    def _log_start(self) -> None:
        log_start(self.database, self.plan.record, self.config.simulation.start_year, self.config.simulation.end_year)

    def _log_end(self, status: str, error: str | None) -> None:
        log_end(self.database, self.run_id, status, error)

    def _publish(self, run_logged: bool = True) -> None:
        """The build becomes the database: with every earlier attempt's log row, this run's as completed."""
        self.publishing = True
        with publish_guard(self.database), connect(self.workspace.build) as con:
            self.held.release()  # the build stays open in con until it is published (no re-open)
            mark(con)
            if self.database.exists():
                runlog.copy_history(con, str(self.database))
                carry_own_tables(con, self.database, self.engine.own_relations(self.ctx) | {"planwise_build"})
            if run_logged:
                runlog.finish(con, self.run_id, "completed")
            published_rejects = (publish_rejects(con, self.workspace.folder / REJECTS_IN_BUILD,
                                                 rejects_path_for(self.database), self.plan is None or
                                                 self.plan.census is not None)
                                 if table_exists(con, "census_load", schema="raw") else lambda: None)
            con.execute("checkpoint")
        self.workspace.publish()  # until the rename, the build keeps its resume record (planwise_build)
        published_rejects()
        self.ctx.monitor.checkpoint("publish")

    def _log_year(self, result: YearResult, level: Level, attempts: int) -> None:
        record_year(self.workspace.build, self.state, self.run_id, result, level.name, attempts)
        self.ctx.monitor.checkpoint(f"year_{result.year}")
        self.progress(YearDone(result))

    def _result(self, started, outcomes, failed, foundation, metrics, summary, years_done, census, ndt) -> RunResult:
        total = time.perf_counter() - started
        years = tuple(YearOutcome(r.year, r.plugin, lvl.name, r.seconds, r.rows, r.dbt_invocations, att,
                                  tuple(attrs.asdict(s) for s in r.steps) if self.performance_mode else None)
                      for r, lvl, att in outcomes)
        completed = tuple(sorted(years_done + [y.year for y in years]))
        planned = self.config.simulation.end_year - self.config.simulation.start_year + 1
        return RunResult(
            simulation_id=self.run_id, success=not failed, database=str(self.database), completed_years=completed,
            failed_years=tuple(failed), success_rate=round(len(completed) / planned, 4) if planned else 0.0,
            total_execution_time=round(total, 3), years=years, resumed_years=tuple(years_done), error=self.last_error,
            continued_from=({"run_id": self.plan.record.continued_from, "year": self.plan.first_new_year - 1}
                            if self.plan.kind == CONTINUE else None),
            performance_metrics=performance_metrics(years, total, self.ctx.monitor, foundation),
            plugin_metrics={m.plugin: m.metrics for m in metrics}, state_metrics=self.state.get_performance_metrics(),
            summary=tuple(summary), census=census, assumptions=self.plan.record.assumptions, ndt=tuple(ndt))


def _chain(pm, orch, plugin: str | None) -> list[Level]:
    """The fallback chain from the configured level; ``plugin`` runs the first level. Levels whose engine is
    blocked or missing are skipped (levels.fallback_chain warns when it is the first), fatal when none is left."""
    if plugin:
        require_engine(pm, plugin)
    chain = fallback_chain(orch.optimization_level, orch.max_workers, level_engines(pm), plugin)
    if not chain:
        raise PluginError(f"No engine serves optimization level '{orch.optimization_level}'. "
                          f"{engine_choice(engine_names(pm))}")
    return chain
