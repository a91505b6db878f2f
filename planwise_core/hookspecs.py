"""Hook specifications of the planwise host.

Every hook takes keyword arguments only: a :class:`~planwise_core.context.RunContext`
named ``ctx`` and, where it applies, the year(s). Plugins may accept fewer
arguments than the spec names (pluggy passes only the ones a hookimpl asks for).

The engine hooks (``foundation_setup``, ``process_year``, ``transition_year``)
are ``firstresult``: the host calls them on the selected engine plugin plus every
non-engine plugin, and the first non-None result wins. Non-engine plugins
(observers, probes) should return None from them so that the engine's result wins.
Engines are registered by ``planwise_engines``, which returns typed specs (engines.py).
"""

from __future__ import annotations

import pluggy

from planwise_core.names import PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec(firstresult=True)
def foundation_setup(ctx):
    """Build the foundation: staging models and the baseline workforce.

    Called once per run, before the first year, after the census has been
    validated and loaded into ``raw.census`` and the parameter tables into
    the ``assumptions`` schema.

    :param ctx: the run context (config, database, settings, monitor).
    :return: a :class:`~planwise_core.results.FoundationResult`; the first
        non-None result wins.
    """


@hookspec(firstresult=True)
def process_year(ctx, year):
    """Simulate one year: requirements, events, and the year-end snapshot.

    Called once per simulated year, in order, after the previous year's
    ``transition_year``. Re-running a year replaces its rows.

    :param ctx: the run context.
    :param year: the simulation year (int).
    :return: a :class:`~planwise_core.results.YearResult`; the first non-None
        result wins.
    """


@hookspec(firstresult=True)
def transition_year(ctx, from_year, to_year):
    """Carry the year-end state of ``from_year`` into the start of ``to_year``.

    Called between two consecutive years, after ``process_year(from_year)``
    succeeded and before ``process_year(to_year)``. Implementations must check
    that the start population of ``to_year`` equals the actives of the
    ``from_year`` snapshot (count, age + 1, tenure + 1, pay carried) and raise
    :class:`~planwise_core.errors.SimulationError` on any mismatch. An engine
    may instead check within the attempt's ``process_year(to_year)`` (the
    optimized engine builds the start, its checks and the year in one
    ``dbt build``) and fail it with the same error (docs/hooks.md).

    :param ctx: the run context.
    :param from_year: the year just completed.
    :param to_year: the next year (``from_year + 1``).
    :return: a :class:`~planwise_core.results.TransitionResult`; the first
        non-None result wins.
    """


@hookspec
def collect_metrics(ctx):
    """Report a plugin's metrics for the run.

    Called once at the end of a run (also after a failed one), on every
    registered plugin. All non-None results are collected.

    :param ctx: the run context.
    :return: a :class:`~planwise_core.results.PluginMetrics` or None.
    """


@hookspec
def planwise_engines():
    """Register engines: return (or yield) :class:`~planwise_core.engines.EngineSpec` values.

    Called whenever the host looks up its engines (building the fallback chain, selecting ``--plugin``,
    listing plugins), on every registered plugin; it must be cheap and return the same engine objects each
    time. Two engines with one name, or two engines claiming one level, are an error naming both plugins'
    distributions.

    :return: an iterable of ``EngineSpec`` (or None for a plugin that registers no engine).
    """
