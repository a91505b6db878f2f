"""Shared base of the dbt engines: both run the same models; they differ in how they invoke dbt."""

from __future__ import annotations

import time

import attrs

from planwise_core import hookimpl
from planwise_core.database import connect, year_row_counts
from planwise_core.engine.invokers import DbtCall, _Invoker
from planwise_core.engine.nodes import BASELINE_MODELS, SEEDS, STAGING_MODELS, YEAR_START_MODEL, YEARLY_MODELS
from planwise_core.errors import SimulationError
from planwise_core.results import FoundationResult, PluginMetrics, StepResult, TransitionResult, YearResult
from planwise_core.engine.transition import check_transition


class DbtEngine:
    """An engine plugin: implements the engine hooks over the dbt project."""

    planwise_engine = True
    name = "engine"

    def make_invoker(self, ctx) -> _Invoker:
        raise NotImplementedError

    def per_model(self, ctx) -> bool:
        return ctx.settings.per_model

    def check_config(self, config) -> list[str]:
        """Issues that stop this engine from running ``config`` (empty when it can)."""
        return check_dbt_project()

    def recommendations(self, config) -> list[str]:
        return []

    def invoker(self, ctx) -> _Invoker:
        """One dbt session per engine and settings: a fallback level gets its own thread count."""
        sessions = ctx.engine_state.setdefault(self.name, {})
        if ctx.settings not in sessions:
            sessions[ctx.settings] = self.make_invoker(ctx)
        return sessions[ctx.settings]

    def _run(self, ctx, command: str, nodes: tuple[str, ...], year: int | None = None,
             per_model: bool | None = None) -> StepResult:
        inv = self.invoker(ctx)
        per_model = self.per_model(ctx) if per_model is None else per_model
        batches = [(n,) for n in nodes] if per_model else [nodes]
        calls: list[DbtCall] = [inv.invoke(command, "--select", *batch, year=year) for batch in batches]
        return StepResult(f"{command} {' '.join(nodes) if len(nodes) < 3 else f'{len(nodes)} nodes'}",
                          sum(c.seconds for c in calls), len(calls))

    @hookimpl
    def foundation_setup(self, ctx) -> FoundationResult:
        started = time.perf_counter()
        steps = (
            # `dbt seed` loads every parameter table in one invocation whatever the level: seeds are static
            # CSVs, not models, so one process per seed would only repeat dbt's start-up.
            self._named("seeds", self._run(ctx, "seed", SEEDS, per_model=False)),
            self._named("staging", self._run(ctx, "run", STAGING_MODELS)),
            self._named("baseline", self._run(ctx, "run", BASELINE_MODELS)),
            self._named("validation", self._validate(ctx)),
        )
        with connect(ctx.database) as con:
            rows = con.execute("select count(*) from int_baseline_workforce").fetchone()[0]
        steps = tuple(attrs.evolve(s, rows=rows) if s.name == "baseline" else s for s in steps)
        return FoundationResult(self.name, steps, time.perf_counter() - started, rows)

    def _validate(self, ctx) -> StepResult:
        call = self.invoker(ctx).invoke("test", "--select", *STAGING_MODELS, *BASELINE_MODELS)
        return StepResult("test foundation", call.seconds, 1)

    @staticmethod
    def _named(name: str, step: StepResult) -> StepResult:
        return attrs.evolve(step, name=name)

    @hookimpl
    def transition_year(self, ctx, from_year: int, to_year: int) -> TransitionResult:
        step = self._run(ctx, "run", (YEAR_START_MODEL,), year=to_year)
        with connect(ctx.database) as con:
            carried, checks = check_transition(con, from_year, to_year)
        ctx.log.debug("transition %s -> %s: %d carried in %.2fs", from_year, to_year, carried, step.seconds)
        return TransitionResult(from_year, to_year, carried, checks)

    @hookimpl
    def process_year(self, ctx, year: int) -> YearResult:
        started = time.perf_counter()
        steps = []
        if not self._start_built_for(ctx, year):
            if year != ctx.start_year:
                raise SimulationError(f"Year {year} has no start population: run transition_year({year - 1}, {year}) first.")
            steps.append(self._run(ctx, "run", (YEAR_START_MODEL,), year=year))
        models = self._run(ctx, "run", YEARLY_MODELS, year=year)
        with connect(ctx.database) as con:
            rows = sum(year_row_counts(con, year))
        steps.append(attrs.evolve(models, rows=rows))
        return YearResult(year, self.name, tuple(steps), time.perf_counter() - started, rows)

    @staticmethod
    def _start_built_for(ctx, year: int) -> bool:
        with connect(ctx.database) as con:
            try:
                built = con.execute("select max(simulation_year) from int_workforce_start").fetchone()[0]
            except Exception:  # the table does not exist before the first year
                return False
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
    """Problems that stop any dbt engine: the project folder and the dbt executable."""
    from planwise_core.engine.invokers import DBT_PROJECT_DIR

    if not (DBT_PROJECT_DIR / "dbt_project.yml").exists():
        return [f"dbt project not found at {DBT_PROJECT_DIR} (set PLANWISE_DBT_DIR)"]
    return []
