"""Domain exceptions. The CLI turns these into one clear message and exit 1."""


class PlanwiseError(Exception):
    """A user-facing problem: bad input, bad configuration, a refused operation."""


class ConfigError(PlanwiseError):
    """The run configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid configuration in {source}:\n{lines}")


class CensusError(PlanwiseError):
    """The census file is refused as a whole."""


class PluginError(PlanwiseError):
    """A plugin cannot be found, loaded or run."""


class SimulationError(PlanwiseError):
    """A simulation step failed (a dbt model, an invariant check, a missing year)."""


class DatabaseBusyError(PlanwiseError):
    """Another run holds the database."""
