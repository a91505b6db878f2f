"""The compiled engine: dbt compiles each phase once per project and configuration, the engine runs the SQL.

On a cache miss the engine compiles, in one in-process dbt session, every phase of the run that is not cached (the
foundation, the first year's ``year_start`` and ``yearly``, one pair for every later year: year-agnostic SQL that
reads the year from a DuckDB variable, engine/compiled/agnostic.py), and saves them (engine/compiled/cache.py). On a
warm cache it never imports dbt: the statements run in DuckDB through the build held open for the year
(database/connection.py's Keeper), one checkpoint per year. A compile or statement error is a CompiledSQLError:
the orchestrator retries the year with the next engine of the fallback chain (optimized). See
docs/compiled_engine.md.
"""

from __future__ import annotations

import json
import logging
import time

import attrs

from planwise_core import hookimpl
from planwise_core.assumptions.spec import LEGACY_PREFIX, TABLES
from planwise_core.database import connect
from planwise_core.database.connection import Keeper
from planwise_core.engine.base import DbtEngine
from planwise_core.engine.compiled.agnostic import compile_vars, run_variables, set_variables, span
from planwise_core.engine.compiled.cache import (FOUNDATION_PHASE, Entry, entry_key, find_entry, fingerprint,
                                                remember_reads, save_costs, save_entry)
from planwise_core.engine.compiled.compiler import CompiledSQLError, compile_phase
from planwise_core.engine.compiled.executor import Tally, run_entry
from planwise_core.engine.compiled.overlap import OverlappingYears, Overlaps
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.nodes import FOUNDATION, YEAR_START, YEARLY, YEARLY_MODELS
from planwise_core.engine.project import DbtProject, parse_clock
from planwise_core.levels import COMPILED, MAX
from planwise_core.results import FoundationResult, PluginMetrics, StepResult

log = logging.getLogger("planwise.compiled")
# selector -> (phase, the selector's tests run too): the steps the dbt engines run by selector
_PHASES = {FOUNDATION: (FOUNDATION_PHASE, True), YEAR_START: (YEAR_START, True), YEARLY: (YEARLY, False)}
# what dbt compiles for a phase: the yearly phase without the tests it would only throw away (a third of its compile)
_COMPILED_SELECTOR = {YEARLY: YEARLY_MODELS}


@attrs.define
class RunState:
    """One run's compiled entries, counters and the build held open for the current year."""

    project: DbtProject
    fingerprint: str
    entries: dict = attrs.Factory(dict)
    tally: Tally = attrs.Factory(Tally)
    hits: int = 0
    compiled: int = 0
    compile_seconds: float = 0.0
    keeper: Keeper | None = None
    parse_clock: float = 0.0  # the process's parse seconds when the run started (engine/project.py)
    overlaps: Overlaps = attrs.Factory(Overlaps)  # the years' two lanes (engine/compiled/overlap.py)


class CompiledEngine(OverlappingYears, DbtEngine):
    """Runs dbt's compiled SQL itself; dbt only compiles (once per project fingerprint and configuration)."""

    name = COMPILED
    levels = (MAX,)
    shares_database = True

    def make_invoker(self, ctx):
        return InProcessDbt(DbtProject(ctx.database, threads=ctx.settings.threads), ctx.config.to_dbt_vars())

    # -- the run's state and its cache entries --------------------------------------------------------------

    def _state(self, ctx) -> RunState:
        states = ctx.engine_state.setdefault(f"{self.name}.run", {})
        if "state" not in states:
            project = DbtProject(ctx.database, threads=ctx.settings.threads)
            project_key = fingerprint(project)
            states["state"] = RunState(project, project_key, parse_clock=parse_clock(project_key, project))
        return states["state"]

    def _key(self, ctx, phase: str, year: int | None) -> dict:
        state, dbt_vars = self._state(ctx), ctx.config.to_dbt_vars()
        return entry_key(state.project, state.fingerprint, phase, compile_vars(dbt_vars, year), span(dbt_vars, year))

    def _cached(self, ctx, phase: str, year: int | None) -> Entry | None:
        state, key = self._state(ctx), self._key(ctx, phase, year)
        token = json.dumps(key, sort_keys=True, default=str)
        if token not in state.entries:
            entry = find_entry(state.project, key)
            if entry is None:
                return None
            state.entries[token], state.hits = entry, state.hits + 1
        return state.entries[token]

    def _entry(self, ctx, selector: str, year: int | None) -> Entry:
        phase = _PHASES[selector][0]
        entry = self._cached(ctx, phase, year)
        if entry is None:
            self._compile_run(ctx)
            entry = self._cached(ctx, phase, year)
        return entry

    def _wanted(self, ctx) -> list[tuple[str, int | None]]:
        sim = ctx.config.simulation
        years = range(sim.start_year, sim.end_year + 1)
        return [(FOUNDATION, None)] + [(selector, year) for year in years for selector in (YEAR_START, YEARLY)]

    def _compile_run(self, ctx) -> None:
        """Compile, in one dbt session, every phase of the run that is not cached yet, and save each: the
        foundation, the first year's two phases and the later years' (one pair, or one per distinct year-keyed
        rate), year-agnostic (engine/compiled/agnostic.py)."""
        state, started = self._state(ctx), time.perf_counter()
        invoker = self.invoker(ctx)
        for selector, year in self._wanted(ctx):
            phase, with_tests = _PHASES[selector]
            if self._cached(ctx, phase, year) is None:
                key = self._key(ctx, phase, year)
                entry = compile_phase(invoker, key, _COMPILED_SELECTOR.get(selector, selector), with_tests)
                if save_entry(state.project, entry):
                    remember_reads(state.project, entry.key)
                state.entries[json.dumps(key, sort_keys=True, default=str)] = entry
                state.compiled += 1
        state.compile_seconds += time.perf_counter() - started
        log.info("compiled engine: %d phases compiled in %.1fs", state.compiled, time.perf_counter() - started)

    def _facts(self, ctx):
        """The project facts of any entry of this run (the foundation's first), or None when nothing is cached."""
        state = self._state(ctx)
        entry = next(iter(state.entries.values()), None) or self._cached(ctx, FOUNDATION_PHASE, None)
        return entry.facts if entry is not None else None

    # -- engines.Engine, answered from the cache when it holds the run ---------------------------------------

    def year_tables(self, ctx) -> tuple[str, ...]:
        facts = self._facts(ctx)
        return facts.year_tables if facts is not None else super().year_tables(ctx)

    def own_relations(self, ctx) -> set[str]:
        facts = self._facts(ctx)
        if facts is None:
            return super().own_relations(ctx)
        return set(facts.models) | {LEGACY_PREFIX + name for name in TABLES}

    def _transition_checks(self, ctx) -> tuple[str, ...]:
        facts = self._facts(ctx)
        return facts.checks if facts is not None else super()._transition_checks(ctx)

    # -- running the phases --------------------------------------------------------------------------------

    def _execute(self, ctx, selector: str, year: int | None) -> StepResult:
        try:
            entry = self._entry(ctx, selector, year)
        except CompiledSQLError:
            raise
        except Exception as exc:  # noqa: BLE001 - dbt or the cache failed: the year goes to the next engine
            raise CompiledSQLError(f"compiled engine: could not compile {selector}: {exc}") from exc
        started = time.perf_counter()
        with connect(ctx.database) as con:
            set_variables(con, run_variables(ctx.config.to_dbt_vars(), year))
            run_entry(con, entry, year, self._state(ctx).tally)
        return StepResult(f"compiled {selector}", time.perf_counter() - started, 0)

    def _run(self, ctx, command: str, selector: str, year: int | None = None,
             per_model: bool | None = None) -> StepResult:
        if selector in (YEAR_START, YEARLY):
            return self._execute(ctx, selector, year)
        return super()._run(ctx, command, selector, year, per_model)

    def _foundation_setup(self, ctx) -> FoundationResult:
        started = time.perf_counter()
        try:
            step = self._execute(ctx, FOUNDATION, None)
        except CompiledSQLError as exc:
            log.warning("%s; building the foundation with dbt instead", exc)
            return super()._foundation_setup(ctx)
        with connect(ctx.database) as con:
            rows = con.execute("select count(*) from int_baseline_workforce").fetchone()[0]
        return FoundationResult(self.name, (attrs.evolve(step, name="foundation", rows=rows),),
                                time.perf_counter() - started, rows)

    # -- one checkpoint per year: the build stays open from the transition to the end of the year ------------

    def _hold(self, ctx) -> None:
        state = self._state(ctx)
        if state.keeper is None:
            state.keeper = Keeper(ctx.database)
            state.keeper.hold(True)

    def _release(self, ctx) -> None:
        state = self._existing_state(ctx)
        if state is not None and state.keeper is not None:
            keeper, state.keeper = state.keeper, None
            keeper.close()

    def _existing_state(self, ctx) -> RunState | None:
        return ctx.engine_state.get(f"{self.name}.run", {}).get("state")

    @hookimpl
    def transition_year(self, ctx, from_year: int, to_year: int):
        self._hold(ctx)
        try:
            return self._transition_year(ctx, from_year, to_year)
        except BaseException:
            self._release(ctx)
            raise

    @hookimpl
    def process_year(self, ctx, year: int):
        self._hold(ctx)
        try:
            return self._process_year(ctx, year)
        finally:
            self._release(ctx)

    @hookimpl
    def collect_metrics(self, ctx) -> PluginMetrics | None:
        self._release(ctx)
        state = self._existing_state(ctx)
        if state is None:
            return None
        if state.overlaps.ahead is not None:  # the run stopped after a year: nothing run ahead stays behind
            self._forget(ctx, state.overlaps.ahead.year)
        if state.overlaps.enabled:  # one DuckDB thread a lane: the costs the next run's balance expects
            save_costs(state.project, state.fingerprint, state.tally.node_seconds, state.overlaps.rows)
        dbt = super().collect_metrics(ctx)
        return PluginMetrics(self.name, {
            "cache_hits": state.hits, "phases_compiled": state.compiled,
            "compile_seconds": round(state.compile_seconds, 3), "statements": state.tally.statements,
            "sql_seconds": round(state.tally.seconds, 3), "overlaps": state.overlaps.count,
            "overlap_seconds": round(state.overlaps.seconds, 3), "moved_to_head": len(state.overlaps.seeds or ()),
            "parse_seconds": round(parse_clock(state.fingerprint, state.project) - state.parse_clock, 3),
            "dbt_invocations": dbt.metrics["dbt_invocations"] if dbt else 0})
