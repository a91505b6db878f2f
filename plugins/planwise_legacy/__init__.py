"""The legacy engine: one dbt CLI process per model, sequential (forked from a launcher that imported dbt once:
launcher.py)."""

from planwise_core.engine.project import DbtProject
from planwise_core.engine.base import DbtEngine
from planwise_core.levels import FALLBACK, LEGACY
from planwise_legacy.launcher import ForkedDbt


class LegacyEngine(DbtEngine):
    name = LEGACY
    levels = (FALLBACK,)

    def make_invoker(self, ctx):
        return ForkedDbt(DbtProject(ctx.database, threads=1), ctx.config.to_dbt_vars())

    def per_model(self, ctx) -> bool:
        return True

    def advice(self, config) -> list[str]:
        sim, orch = config.simulation, config.orchestration
        advice = []
        if orch.max_workers > 1:
            advice.append(f"runs dbt with 1 thread; max_workers={orch.max_workers} only applies to optimized")
        years = sim.end_year - sim.start_year + 1
        if years > 3:
            advice.append(f"{years} years take about {years * 21} dbt processes (~2 s each); prefer optimized")
        return advice


plugin = LegacyEngine()
