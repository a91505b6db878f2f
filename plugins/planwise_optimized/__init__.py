"""The optimized engine: dbt in-process, parsed once per run, one invocation per step."""

from planwise_core.engine.project import DbtProject
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.base import DbtEngine
from planwise_core.levels import OPTIMIZED


class OptimizedEngine(DbtEngine):
    name = OPTIMIZED
    shares_database = True  # dbtRunner in this process

    def make_invoker(self, ctx):
        project = DbtProject(ctx.database, threads=ctx.settings.threads)
        return InProcessDbt(project, ctx.config.to_dbt_vars())


plugin = OptimizedEngine()
