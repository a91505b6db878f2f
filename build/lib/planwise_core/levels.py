"""Engines and optimization levels, defined once: a level is an engine plugin plus how it drives dbt.

The fallback chain walks the levels in order (HIGH -> MEDIUM -> LOW -> FALLBACK); a year that fails at
one level is retried at the next. Nothing else in the host names an engine or a level literally.
"""

from __future__ import annotations

import attrs

OPTIMIZED = "optimized"
LEGACY = "legacy"
BUILTIN_ENGINES = (OPTIMIZED, LEGACY)

HIGH, MEDIUM, LOW, FALLBACK = "high", "medium", "low", "fallback"
OPTIMIZATION_LEVELS = (HIGH, MEDIUM, LOW, FALLBACK)


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


def level_map(max_workers: int) -> dict[str, Level]:
    return {
        HIGH: Level(HIGH, OPTIMIZED, EngineSettings(threads=max_workers, per_model=False)),
        MEDIUM: Level(MEDIUM, OPTIMIZED, EngineSettings(threads=1, per_model=False)),
        LOW: Level(LOW, OPTIMIZED, EngineSettings(threads=1, per_model=True)),
        FALLBACK: Level(FALLBACK, LEGACY, EngineSettings(threads=1, per_model=True)),
    }


def fallback_chain(start_level: str, max_workers: int, plugin: str | None = None) -> list[Level]:
    """Levels from ``start_level`` down to FALLBACK; ``plugin`` replaces the first rung's engine."""
    levels = list(level_map(max_workers).values())
    chain = levels[OPTIMIZATION_LEVELS.index(start_level.lower()):]
    if plugin and plugin != chain[0].plugin:
        chain[0] = attrs.evolve(chain[0], plugin=plugin)
    return chain
