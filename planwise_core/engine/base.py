"""Shared base of the dbt engines: both run the same models; they differ in how they invoke dbt."""

from __future__ import annotations

import contextlib
import time

import attrs

from planwise_core import hookimpl
from planwise_core.assumptions.spec import LEGACY_PREFIX, TABLES
from planwise_core.database import connect, delete_years, table_exists, year_row_counts
from planwise_core.database.connection import Keeper
from planwise_core.engine.invokers import DBT_PROCESS_LOCK, Invoker
from planwise_core.engine.nodes import (BASELINE, FOUNDATION, STAGING, WHOLE_YEAR, YEAR_START, YEARLY,
                                        selected_models, transition_checks, year_partitioned_models)
from planwise_core.engine.project import DBT_PROJECT_DIR, DbtProject, parsed_manifest
from planwise_core.engines import EngineSpec
from planwise_core.errors import SimulationError
from planwise_core.results import FoundationResult, PluginMetrics, StepResult, TransitionResult, YearResult


class DbtEngine:
    """An engine plugin: implements the engine hooks and the engine contract (engines.Engine) over the dbt project."""

    name = "engine"
    levels: tuple[str, ...] = ()  # the optimization levels this engine serves by default
    # True for an engine that runs dbt in this process: each engine hook then keeps the build open while it
    # works (Keeper), so that dbt's and the engine's own connections share one DuckDB instance (fewer file
    # opens, one checkpoint per hook instead of one per connection). The file is released when the hook
    # returns: a dbt subprocess, or another plugin opening it read-only, could not open a held file.
    shares_database = False
    # True for an engine that builds the foundation in one `dbt build` and each year in one `dbt build` of the
    # `year` selection (start population, transition checks, yearly models) when it runs a selection per
    # invocation: transition_year then only checks that the previous year is there (docs/performance.md).
    one_build = False

    @contextlib.contextmanager
    def _held(self, ctx):
        keeper = Keeper(ctx.database)
        keeper.hold(self.shares_database)
        try:
            yield
        finally:
            keeper.close()

    def make_invoker(self, ctx) -> Invoker:
        raise NotImplementedError

    def per_model(self, ctx) -> bool:
        return ctx.settings.per_model

    def _one_build(self, ctx) -> bool:
        return self.one_build and not self.per_model(ctx)

    @hookimpl
    def planwise_engines(self):
        return [EngineSpec(self.name, self, self.levels)]

    def check(self, config) -> list[str]:
        """Issues that stop this engine from running ``config`` (empty when it can)."""
        return check_dbt_project()

    def advice(self, config) -> list[str]:
        return []

    def year_tables(self, ctx) -> tuple[str, ...]:
        """The year_partition models, as the dbt project declares them."""
        return year_partitioned_models(DbtProject(ctx.database))

    def discard_years(self, ctx, first: int, last: int | None = None) -> None:
        with connect(ctx.database) as con:
            delete_years(con, self.year_tables(ctx), first, last)

    def own_relations(self, ctx) -> set[str]:
        """The project's models, and the parameter tables' former names (``config_*``)."""
        nodes = parsed_manifest(DbtProject(ctx.database)).nodes.values()
        return {n.name for n in nodes if n.resource_type in ("model", "seed")} | {
            LEGACY_PREFIX + name for name in TABLES}

    def lock(self):
        """dbt's process-wide state (environment, parsed manifests, dbt-duckdb's connections): one run at a time."""
        return DBT_PROCESS_LOCK

    def invoker(self, ctx) -> Invoker:
        """One dbt session per engine and settings: a fallback level gets its own thread count."""
        sessions = ctx.engine_state.setdefault(self.name, {})
        if ctx.settings not in sessions:
            sessions[ctx.settings] = self.make_invoker(ctx)
        return sessions[ctx.settings]

    def _run(self, ctx, command: str, selector: str, year: int | None = None,
             per_model: bool | None = None) -> StepResult:
        """Run a selector's models in one invocation, or one invocation per model in DAG order."""
        inv = self.invoker(ctx)
        per_model = self.per_model(ctx) if per_model is None else per_model
        if per_model:
            calls = [inv.invoke(command, "--select", model, year=year)
                     for model in selected_models(inv.project, selector)]
        else:
            calls = [inv.invoke(command, "--selector", selector, year=year)]
        return StepResult(f"{command} {selector}", sum(c.seconds for c in calls), len(calls))

    @hookimpl
    def foundation_setup(self, ctx) -> FoundationResult:
        with self._held(ctx):
            return self._foundation_setup(ctx)

    def _foundation_setup(self, ctx) -> FoundationResult:
        started = time.perf_counter()
        # The parameter tables are already in the database: the host validated and loaded them
        # (planwise_core.assumptions) with the census, so the foundation starts at the staging models.
        steps = self._foundation_build(ctx) if self._one_build(ctx) else self._foundation_steps(ctx)
        with connect(ctx.database) as con:
            rows = con.execute("select count(*) from int_baseline_workforce").fetchone()[0]
        steps = tuple(attrs.evolve(s, rows=rows) if s.name == "baseline" else s for s in steps)
        return FoundationResult(self.name, steps, time.perf_counter() - started, rows)

    def _foundation_steps(self, ctx) -> tuple[StepResult, ...]:
        return (
            self._named("staging", self._run(ctx, "run", STAGING)),
            self._named("baseline", self._run(ctx, "run", BASELINE)),
            StepResult("validation", self.invoker(ctx).invoke("test", "--selector", FOUNDATION).seconds, 1),
        )

    def _foundation_build(self, ctx) -> tuple[StepResult, ...]:
        """One `dbt build` of the foundation (models, then their unit and data tests, in dependency order),
        reported as the same three steps, timed from its nodes; the invocation's own set-up goes to staging."""
        call = self.invoker(ctx).invoke("build", "--selector", FOUNDATION)
        kinds = {"staging": 0.0, "baseline": 0.0, "validation": 0.0}
        for _name, resource_type, tags, seconds in call.nodes:
            kind = "validation" if "test" in resource_type else ("staging" if STAGING in tags else "baseline")
            kinds[kind] += seconds
        # Node times overlap on dbt's threads: scaled down to the invocation's wall time when they exceed it.
        total = sum(kinds.values())
        scale = min(1.0, call.seconds / total) if total else 1.0
        kinds = {name: seconds * scale for name, seconds in kinds.items()}
        kinds["staging"] += max(0.0, call.seconds - sum(kinds.values()))
        return tuple(StepResult(name, seconds, int(name == "staging")) for name, seconds in kinds.items())

    @staticmethod
    def _named(name: str, step: StepResult) -> StepResult:
        return attrs.evolve(step, name=name)

    def _build_year_start(self, ctx, year: int) -> StepResult:
        """The year's start population and, after the first year, the dbt tests that it carries the last one."""
        return self._run(ctx, "build", YEAR_START, year=year, per_model=False)

    @hookimpl
    def transition_year(self, ctx, from_year: int, to_year: int) -> TransitionResult:
        with self._held(ctx):
            return self._transition_year(ctx, from_year, to_year)

    def _transition_year(self, ctx, from_year: int, to_year: int) -> TransitionResult:
        present, actives = self._year_end(ctx, from_year)
        if not present:
            raise SimulationError(f"Year {to_year} needs the results of {from_year}, which are missing from the "
                                  f"database. Simulate {from_year} first (or run from the start year again).")
        if self._one_build(ctx):  # the start and its checks are built with the year (process_year)
            return TransitionResult(from_year, to_year, actives, transition_checks(self.invoker(ctx).project))
        try:
            step = self._build_year_start(ctx, to_year)
        except SimulationError as exc:
            raise SimulationError(f"Transition {from_year} -> {to_year} failed: {exc}") from None
        with connect(ctx.database) as con:
            carried = con.execute("select count(*) from int_workforce_start where simulation_year = "
                                  f"{int(to_year)}").fetchone()[0]
        ctx.log.debug("transition %s -> %s: %d carried in %.2fs", from_year, to_year, carried, step.seconds)
        return TransitionResult(from_year, to_year, carried, self._transition_checks(ctx))

    def _transition_checks(self, ctx) -> tuple[str, ...]:
        return transition_checks(self.invoker(ctx).project)

    @staticmethod
    def _year_end(ctx, year: int) -> tuple[int, int]:
        """Rows of ``year``'s snapshot (0 when the year is missing), and its actives: the next year's start."""
        with connect(ctx.database) as con:
            if not table_exists(con, "fct_workforce_snapshot"):
                return 0, 0
            return con.execute("select count(*), count(*) filter (where employment_status = 'active') "
                               f"from fct_workforce_snapshot where simulation_year = {int(year)}").fetchone()

    @hookimpl
    def process_year(self, ctx, year: int) -> YearResult:
        with self._held(ctx):
            return self._process_year(ctx, year)

    def _process_year(self, ctx, year: int) -> YearResult:
        started = time.perf_counter()
        if self._one_build(ctx):
            steps = [self._build_whole_year(ctx, year)]
        else:
            steps = self._start_then_yearly(ctx, year)
        with connect(ctx.database) as con:
            rows = sum(year_row_counts(con, year))
        steps[-1] = attrs.evolve(steps[-1], rows=rows)
        return YearResult(year, self.name, tuple(steps), time.perf_counter() - started, rows)

    def _build_whole_year(self, ctx, year: int) -> StepResult:
        """The start population, its transition checks (they gate every later model) and the yearly models, in
        one `dbt build`; a failing check fails the year with the transition's error."""
        if year != ctx.start_year and not self._year_end(ctx, year - 1)[0]:
            raise SimulationError(f"Year {year} has no start population: the results of {year - 1} are missing. "
                                  f"Simulate {year - 1} first (or run from the start year again).")
        try:
            return self._run(ctx, "build", WHOLE_YEAR, year=year, per_model=False)
        except SimulationError as exc:
            if year != ctx.start_year and any(check in str(exc) for check in
                                              transition_checks(self.invoker(ctx).project)):
                raise SimulationError(f"Transition {year - 1} -> {year} failed: {exc}") from None
            raise

    def _start_then_yearly(self, ctx, year: int) -> list[StepResult]:
        return [*self._start_of(ctx, year), self._run(ctx, "run", YEARLY, year=year)]

    def _start_of(self, ctx, year: int) -> list[StepResult]:
        """The first year's start population (built here); a later year's must be built already (transition)."""
        if self._start_built_for(ctx, year):
            return []
        if year != ctx.start_year:
            raise SimulationError(f"Year {year} has no start population: run transition_year({year - 1}, {year}) first.")
        return [self._build_year_start(ctx, year)]

    @staticmethod
    def _start_built_for(ctx, year: int) -> bool:
        with connect(ctx.database) as con:
            if not table_exists(con, "int_workforce_start"):  # before the first year
                return False
            built = con.execute("select max(simulation_year) from int_workforce_start").fetchone()[0]
        return built == year and year != ctx.start_year

    @hookimpl
    def collect_metrics(self, ctx) -> PluginMetrics | None:
        sessions = list(ctx.engine_state.get(self.name, {}).values())
        if not sessions:
            return None
        return PluginMetrics(self.name, {
            "dbt_invocations": sum(inv.invocations for inv in sessions),
            "dbt_seconds": round(sum(c.seconds for inv in sessions for c in inv.calls), 3),
            "parse_seconds": round(sum(getattr(inv, "parse_seconds", 0.0) for inv in sessions), 3),
        })


def check_dbt_project() -> list[str]:
    """Problems that stop any dbt engine: the project folder."""
    if not (DBT_PROJECT_DIR / "dbt_project.yml").exists():
        return [f"dbt project not found at {DBT_PROJECT_DIR} (set PLANWISE_DBT_DIR)"]
    return []
