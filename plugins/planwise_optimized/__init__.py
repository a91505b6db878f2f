"""The optimized engine: dbt in-process, the project parsed once per process, one invocation per step."""

from planwise_core.engine.project import DbtProject
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.engine.base import DbtEngine
from planwise_core.levels import HIGH, LOW, MEDIUM, OPTIMIZED


class OptimizedEngine(DbtEngine):
    name = OPTIMIZED
    levels = (HIGH, MEDIUM, LOW)
    shares_database = True  # dbtRunner in this process
    one_build = True  # the foundation in one dbt build, each year in one (docs/performance.md)

    def make_invoker(self, ctx):
        project = DbtProject(ctx.database, threads=ctx.settings.threads)
        return InProcessDbt(project, ctx.config.to_dbt_vars())


plugin = OptimizedEngine()
