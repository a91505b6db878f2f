"""Two lanes: a year's tail overlaps the next year's transition and head (docs/compiled_engine.md, two lanes).

``process_year(Y)`` runs Y's head, starts Y's tail on a second connection in a thread (engine/compiled/lanes.py),
and meanwhile, on the main connection, runs *ahead* the transition Y -> Y+1 and Y+1's head; then it waits for the
tail and returns Y's result. The orchestrator's own ``transition_year(Y, Y+1)`` and ``process_year(Y+1)`` find
that work done and skip it. Rules:

- work run ahead that fails never fails Y: after the tail is joined, its rows of Y+1 are deleted and it is
  forgotten, so the orchestrator's own calls for Y+1 run it again and fail there as without the overlap;
- a tail that fails fails Y: the rows run ahead for Y+1 are deleted too, then the tail's error is raised;
- anything the orchestrator discards (a retry, a fallback, a resume) forgets the work run ahead;
- Ctrl-C interrupts the tail's statement and waits for its thread before propagating: no thread outlives the call.
Only with one DuckDB thread and a census below database/connection.py's ONE_THREAD_BELOW rows, where each lane
keeps one core busy; with more, DuckDB's own operators already use every core, and a second lane would hold a
second year's intermediates in memory (+210 MB at 100K with NDT on).
"""

from __future__ import annotations

import logging
import time

import attrs

from planwise_core.database import connect, table_exists
from planwise_core.database.connection import ONE_THREAD_BELOW
from planwise_core.engine.compiled.agnostic import run_variables, set_variables
from planwise_core.engine.compiled.cache import Node, cost_name, load_costs
from planwise_core.engine.compiled.executor import create_schemas, run_nodes
from planwise_core.engine.compiled.lanes import TailLane
from planwise_core.engine.compiled.split import Split, balanced, split_year
from planwise_core.engine.nodes import YEAR_START, YEARLY
from planwise_core.results import StepResult, TransitionResult

log = logging.getLogger("planwise.compiled")


@attrs.define
class Ahead:
    """Work run ahead for ``year``: its transition (the result the orchestrator's call returns) and its head."""

    year: int
    transition: TransitionResult


@attrs.define
class Overlaps:
    """A run's overlaps: how many tails ran beside the next year's start, the seconds both lanes were busy."""

    enabled: bool | None = None  # decided by the first year, when the build is held (DuckDB threads known)
    count: int = 0
    seconds: float = 0.0
    ahead: Ahead | None = None
    splits: dict = attrs.Factory(dict)
    rows: int = 0  # the census's rows: recorded node costs are per row
    # the models moved into every year's head to balance the lanes (split.balanced), decided by the first split
    seeds: tuple[str, ...] | None = None

    def take(self, year: int) -> Ahead | None:
        ahead, self.ahead = self.ahead, None
        return ahead if ahead is not None and ahead.year == year else None


class OverlappingYears:
    """The compiled engine's years in two lanes (mixed into engine.CompiledEngine, which provides the state)."""

    def _overlaps(self, ctx) -> Overlaps:
        return self._state(ctx).overlaps

    def _overlapping(self, ctx) -> bool:
        overlaps, sim = self._overlaps(ctx), ctx.config.simulation
        if overlaps.enabled is None:
            with connect(ctx.database) as con:  # the held build: its DuckDB threads are the run's
                threads = int(con.execute("select current_setting('threads')").fetchone()[0])
                rows = (con.execute("select count(*) from raw.census").fetchone()[0]
                        if table_exists(con, "census", schema="raw") else 0)
            # one DuckDB thread, and a census small enough that two years' intermediates fit beside each other
            overlaps.enabled = threads == 1 and rows < ONE_THREAD_BELOW and sim.start_year < sim.end_year
            overlaps.rows = rows
        return overlaps.enabled

    def _split(self, ctx, year: int) -> Split:
        """Year's head and tail; the last year splits against itself (a later year, as the next one would be)."""
        following = year + 1 if year < ctx.config.simulation.end_year else year
        entries = (self._entry(ctx, YEARLY, year), self._entry(ctx, YEAR_START, following),
                   self._entry(ctx, YEARLY, following))
        key, overlaps = tuple(id(entry) for entry in entries), self._overlaps(ctx)
        if overlaps.seeds is None:  # once a run: a model changing lanes between years could be written by both
            overlaps.seeds = self._balance(ctx, entries)
        if key not in overlaps.splits:
            split = overlaps.splits[key] = split_year(*entries, seeds=overlaps.seeds)
            log.debug("compiled engine: %s splits into a head (%s) and a tail (%s)", year,
                      ", ".join(n.name for n in split.head), ", ".join(n.name for n in split.tail))
        return overlaps.splits[key]

    def _balance(self, ctx, entries) -> tuple[str, ...]:
        """The models moved into the head for the whole run, from the node costs earlier runs recorded."""
        state, rows = self._state(ctx), self._overlaps(ctx).rows
        recorded = load_costs(state.project, state.fingerprint, rows)
        seeds = balanced(*entries, cost=lambda node: (recorded[cost_name(node)] * rows
                                                      if cost_name(node) in recorded else None))
        if seeds:
            log.info("compiled engine: the head also runs %s, to balance the lanes (recorded node costs)",
                     ", ".join(seeds), extra={"event": "compiled_lanes_balanced", "models": list(seeds)})
        return seeds

    def _run_nodes(self, ctx, name: str, nodes: tuple[Node, ...], year: int, schemas=()) -> StepResult:
        started = time.perf_counter()
        with connect(ctx.database) as con:
            set_variables(con, run_variables(ctx.config.to_dbt_vars(), year))
            create_schemas(con, schemas)
            run_nodes(con, nodes, year, self._state(ctx).tally)
        return StepResult(name, time.perf_counter() - started, 0)

    def _transition_year(self, ctx, from_year: int, to_year: int) -> TransitionResult:
        ahead = self._overlaps(ctx).ahead if self._existing_state(ctx) else None
        if ahead is not None and ahead.year == to_year:
            return ahead.transition
        return super()._transition_year(ctx, from_year, to_year)

    def _start_then_yearly(self, ctx, year: int) -> list[StepResult]:
        if not self._overlapping(ctx):
            return super()._start_then_yearly(ctx, year)
        split, steps = self._split(ctx, year), []
        if self._overlaps(ctx).take(year) is None:
            steps += self._start_of(ctx, year)
            steps.append(self._run_nodes(ctx, "compiled yearly head", split.head, year,
                                         schemas=split.head + split.tail))
        if year == ctx.config.simulation.end_year or not split.head:  # nothing to overlap, or nothing to pin
            return [*steps, self._run_nodes(ctx, "compiled yearly tail", split.tail, year)]
        return [*steps, self._tail_beside_next(ctx, year, split)]

    def _tail_beside_next(self, ctx, year: int, split: Split) -> StepResult:
        """Year's tail in the second lane while the next year's transition and head run ahead in this one."""
        started, overlaps = time.perf_counter(), self._overlaps(ctx)
        variables = run_variables(ctx.config.to_dbt_vars(), year)
        lane = TailLane(ctx.database, split.tail, year, variables, pin=split.head[0].relation,
                        ran_once=self._state(ctx).tally.ran_once).start()
        log.info("compiled engine: the tail of %s runs beside the start of %s", year, year + 1,
                 extra={"event": "compiled_tail_started", "year": year})
        try:
            ahead = self._run_ahead(ctx, year + 1)
            ahead_ended = time.perf_counter()
            lane.finish()
        except BaseException as exc:
            lane.stop()
            overlaps.ahead = None
            if isinstance(exc, Exception):  # the tail failed: so does the year, with nothing of the next left
                super().discard_years(ctx, year + 1)
            raise  # Ctrl-C: the next year's rows go with the resume's discard of every unfinished year
        finally:
            self._state(ctx).tally.add(lane.tally)
        overlaps.count += 1
        overlaps.seconds += max(0.0, min(lane.ended, ahead_ended) - lane.started)
        if ahead is None:
            self._forget(ctx, year + 1)
        overlaps.ahead = ahead
        return StepResult("compiled yearly tail", time.perf_counter() - started, 0)

    def _run_ahead(self, ctx, year: int) -> Ahead | None:
        """The transition to ``year`` and its head, run ahead; None when they failed (the rows are deleted after
        the tail is joined, and the orchestrator's own calls run them again and raise)."""
        try:
            transition = super()._transition_year(ctx, year - 1, year)
            split = self._split(ctx, year)
            self._run_nodes(ctx, "compiled yearly head", split.head, year, schemas=split.head + split.tail)
        except Exception as exc:  # noqa: BLE001 - redone and raised by the orchestrator's own call for the year
            log.info("compiled engine: the start of %s run ahead failed (%s); it runs again in its own turn", year,
                     exc)
            return None
        return Ahead(year, transition)

    def _forget(self, ctx, year: int) -> None:
        """Forget the work run ahead for ``year`` and delete its rows (a failed or discarded year)."""
        self._overlaps(ctx).ahead = None
        super().discard_years(ctx, year)

    def discard_years(self, ctx, first: int, last: int | None = None) -> None:
        state = self._existing_state(ctx)
        if state is not None and state.overlaps.ahead is not None:  # a year the orchestrator has not reached yet
            self._forget(ctx, state.overlaps.ahead.year)
        super().discard_years(ctx, first, last)
