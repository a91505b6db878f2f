"""The typed hook facade: the only caller of ``pm.hook`` and of the selected engine's contract (engines.py)."""

from __future__ import annotations

import pluggy

from planwise_core.engines import engine_specs
from planwise_core.errors import SimulationError
from planwise_core.manager import ENGINE_HOOKS, require_engine
from planwise_core.results import FoundationResult, PluginMetrics, TransitionResult, YearResult


class Hooks:
    """The only place that calls ``pm.hook``: engine hooks reach one engine only."""

    def __init__(self, pm: pluggy.PluginManager, engine: str):
        self.spec = require_engine(pm, engine)
        self.pm = pm
        self.engine = engine
        others = [s.engine for n, s in engine_specs(pm).items() if n != engine]
        self._callers = {h: pm.subset_hook_caller(h, others) for h in ENGINE_HOOKS}

    def _first(self, hook: str, **kwargs):
        result = self._callers[hook](**kwargs)
        if result is None:
            raise SimulationError(f"Engine plugin '{self.engine}' returned no result from {hook}; "
                                  "an engine must implement every engine hook.")
        return result

    def foundation_setup(self, ctx) -> FoundationResult:
        return self._first("foundation_setup", ctx=ctx)

    def process_year(self, ctx, year: int) -> YearResult:
        return self._first("process_year", ctx=ctx, year=year)

    def transition_year(self, ctx, from_year: int, to_year: int) -> TransitionResult:
        return self._first("transition_year", ctx=ctx, from_year=from_year, to_year=to_year)

    def collect_metrics(self, ctx) -> list[PluginMetrics]:
        return [m for m in self.pm.hook.collect_metrics(ctx=ctx) if m is not None]

    # -- the engine's contract (engines.Engine) ---------------------------------------------------------

    def check(self, config) -> list[str]:
        return list(self.spec.engine.check(config))

    def advice(self, config) -> list[str]:
        return list(self.spec.engine.advice(config))

    def year_tables(self, ctx) -> tuple[str, ...]:
        return tuple(self.spec.engine.year_tables(ctx))

    def discard_years(self, ctx, first: int, last: int | None = None) -> None:
        self.spec.engine.discard_years(ctx, first, last)

    def own_relations(self, ctx) -> set[str]:
        return set(self.spec.engine.own_relations(ctx))

    def lock(self):
        return self.spec.engine.lock()

    def holds_build(self) -> bool:
        """Whether the host may keep the build open from one engine hook to the next: the engine shares the
        database with this process (``shares_database``) and no other plugin takes part in the engine hooks
        (an observer may open the build read-only, which DuckDB refuses while this process holds it)."""
        alone = all(impl.plugin is self.spec.engine for hook in ENGINE_HOOKS
                    for impl in self._callers[hook].get_hookimpls())
        return alone and bool(getattr(self.spec.engine, "shares_database", False))
