"""The optimized engine: dbt in-process, parsed once per run, one invocation per step."""

from planwise_core.dbt import DbtProject, InProcessDbt
from planwise_core.engine import DbtEngine


class OptimizedEngine(DbtEngine):
    name = "optimized"

    def make_invoker(self, ctx):
        project = DbtProject(ctx.database, threads=ctx.settings.threads)
        return InProcessDbt(project, ctx.config.to_dbt_vars())


plugin = OptimizedEngine()
