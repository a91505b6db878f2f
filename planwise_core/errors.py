"""Domain exceptions. The CLI turns these into one clear message and exit 1.

Messages speak the terms of whoever called: an option is written ``option("seeds")`` inside a message, which
reads as the Python parameter (`seeds`) in ``str(error)`` and as the command-line flag (``--seeds``) in
:meth:`PlanwiseError.for_cli`, so the library never tells a Python caller about a flag it did not use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_OPTION = re.compile(r"\{option:(\w+)\}")


def option(name: str) -> str:
    """An option (a Python parameter, and the flag named after it) mentioned in an error message."""
    return "{option:%s}" % name


def flag(name: str, flags: Mapping[str, str] | None = None) -> str:
    """The command-line flag of a parameter: ``flags`` where the names differ, else ``--name-with-dashes``."""
    return (flags or {}).get(name) or "--" + name.replace("_", "-")


class PlanwiseError(Exception):
    """A user-facing problem: bad input, bad configuration, a refused operation."""

    def __str__(self) -> str:
        return _OPTION.sub(lambda m: f"`{m[1]}`", super().__str__())

    def for_cli(self, flags: Mapping[str, str] | None = None) -> str:
        """The message with each option named by its command-line flag."""
        return _OPTION.sub(lambda m: flag(m[1], flags), super().__str__())


class ConfigError(PlanwiseError):
    """The run configuration is invalid; ``problems`` lists every problem found (``items``: the same as
    planwise_core.problems.Problem data, when the validator found them)."""

    def __init__(self, source: str, problems: list[str], items: tuple = ()):
        self.source = source
        self.problems = list(problems)
        self.items = tuple(items)
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
