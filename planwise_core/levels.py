"""The built-in engines' names and the optimization levels, defined once.

A level is a rung of the fallback chain (MAX -> HIGH -> MEDIUM -> LOW -> FALLBACK) with its engine settings; a year
that fails at one level is retried at the next. Which engine runs a level is the engine's own declaration
(``EngineSpec.levels``, engines.py); the built-in engines' names are here because the host compares them
(outputs/compare.py, api/compat.py). Nothing else in the host names an engine or a level literally.
"""

from __future__ import annotations

import logging

import attrs

COMPILED = "compiled"
OPTIMIZED = "optimized"
LEGACY = "legacy"

log = logging.getLogger("planwise.run")

MAX, HIGH, MEDIUM, LOW, FALLBACK = "max", "high", "medium", "low", "fallback"
OPTIMIZATION_LEVELS = (MAX, HIGH, MEDIUM, LOW, FALLBACK)


@attrs.frozen
class EngineSettings:
    """How an engine drives dbt: dbt threads, and one invocation per year or per model."""

    threads: int = 1
    per_model: bool = False


@attrs.frozen
class Level:
    """One rung of the fallback chain."""

    name: str
    plugin: str
    settings: EngineSettings


def level_settings(max_workers: int) -> dict[str, EngineSettings]:
    """How each level drives its engine."""
    return {
        MAX: EngineSettings(threads=max_workers, per_model=False),
        HIGH: EngineSettings(threads=max_workers, per_model=False),
        MEDIUM: EngineSettings(threads=1, per_model=False),
        LOW: EngineSettings(threads=1, per_model=True),
        FALLBACK: EngineSettings(threads=1, per_model=True),
    }


def fallback_chain(start_level: str, max_workers: int, served: dict[str, str], plugin: str | None = None) -> list[Level]:
    """Levels from ``start_level`` down to FALLBACK, each run by the engine that serves it (``served``: level ->
    engine name). A level no engine serves is left out; ``plugin`` runs the first level whoever serves it."""
    settings = level_settings(max_workers)
    names = OPTIMIZATION_LEVELS[OPTIMIZATION_LEVELS.index(start_level.lower()):]
    chain = [Level(name, served[name], settings[name]) for name in names if name in served]
    if chain and not plugin and chain[0].name != names[0]:
        log.warning("No engine serves optimization level '%s' (blocked or not installed): starting at '%s' (%s).",
                    names[0], chain[0].name, chain[0].plugin)
    if plugin:
        first = Level(names[0], plugin, settings[names[0]])
        chain = [first] + [level for level in chain if level.name != names[0]]
    return chain
