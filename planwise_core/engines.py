"""The engine contract: what the host asks of an engine, and the typed registration an engine plugin returns.

An engine plugin answers the ``planwise_engines`` hook with :class:`EngineSpec` values (as conda's
``conda_solvers`` hook yields ``CondaSolver``). The spec names the engine and the optimization levels it serves;
its ``engine`` object implements the engine hooks (``foundation_setup``, ``process_year``, ``transition_year``)
and the :class:`Engine` methods below. The host never looks behind them: which tables hold a year, how a year
is rolled back and which relations are the engine's own are the engine's answers, not the host's guesses.
"""

from __future__ import annotations

import contextlib
from typing import Protocol, runtime_checkable

import attrs


@runtime_checkable
class Engine(Protocol):
    """What the host calls on an engine object besides the engine hooks."""

    name: str

    def check(self, config) -> list[str]:
        """Problems that stop this engine from running ``config`` (empty when it can); called before anything is
        written."""

    def advice(self, config) -> list[str]:
        """Recommendations for running ``config`` with this engine (never blocking)."""

    def year_tables(self, ctx) -> tuple[str, ...]:
        """The tables that keep one partition per simulation year (column ``simulation_year``) in ``ctx.database``."""

    def discard_years(self, ctx, first: int, last: int | None = None) -> None:
        """Roll back: remove every row years ``first``..``last`` (``last`` None: ``first`` only) wrote. Called before
        the first year too, when the engine's tables may not exist yet."""

    def own_relations(self, ctx) -> set[str]:
        """Names of the relations this engine builds: a user's own tables are every other table."""

    def lock(self) -> contextlib.AbstractContextManager:
        """Held around a whole run: guards the process-wide state the engine uses (one run at a time)."""


@attrs.frozen
class EngineSpec:
    """One engine registration: its name (what ``--plugin`` selects), its engine object and its levels.

    ``levels`` are the optimization levels (``levels.OPTIMIZATION_LEVELS``) whose rung this engine runs by
    default; an engine that serves none runs only when selected by name.
    """

    name: str
    engine: Engine
    levels: tuple[str, ...] = attrs.field(default=(), converter=tuple)


# -- the registry: read from the plugin manager each time, so an engine registered later is seen --------------

def engine_specs(pm) -> dict[str, EngineSpec]:
    """The registered engines by name. An engine object that is not a plugin yet is registered under its name.

    A name, or a level, claimed by two different engines is a PluginError naming both plugins' distributions.
    """
    specs: dict[str, tuple[EngineSpec, str]] = {}
    for impl in pm.hook.planwise_engines.get_hookimpls():
        for spec in impl.function() or ():
            if pm.is_blocked(spec.name):
                continue
            taken = specs.get(spec.name)
            if taken is not None and taken[0].engine is not spec.engine:
                raise _conflict(pm, f"engines for '{spec.name}'", taken[1], impl.plugin_name)
            specs[spec.name] = (spec, impl.plugin_name)
    served: dict[str, str] = {}
    for name, (spec, plugin_name) in specs.items():
        for level in spec.levels:
            if level in served:
                raise _conflict(pm, f"engines for level '{level}'", specs[served[level]][1], plugin_name)
            served[level] = name
        if not pm.is_registered(spec.engine):  # its hookimpls join the run under the engine's name
            pm.register(spec.engine, name=name if pm.get_plugin(name) is None else f"{name}.engine")
    return {name: spec for name, (spec, _) in sorted(specs.items())}


def _conflict(pm, what: str, first: str, second: str):
    from planwise_core.errors import PluginError

    def origin(plugin_name: str) -> str:
        dist = getattr(pm, "distributions", {}).get(plugin_name, ("planwise",))[0]
        return f"{dist} (plugin {plugin_name})"

    return PluginError(f"Conflicting {what}: {origin(first)}, {origin(second)}. Uninstall one of them, or block "
                       f"one with PLANWISE_BLOCK_PLUGINS=<plugin>.")


def engine_names(pm) -> list[str]:
    return list(engine_specs(pm))


def level_engines(pm) -> dict[str, str]:
    """Which engine serves each level (``EngineSpec.levels``)."""
    return {level: spec.name for spec in engine_specs(pm).values() for level in spec.levels}


def is_engine(pm, plugin) -> bool:
    return any(spec.engine is plugin for spec in engine_specs(pm).values())
