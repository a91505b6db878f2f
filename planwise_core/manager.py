"""Plugin manager factory, entry-point loading and the typed hook facade."""

from __future__ import annotations

import logging
import os
import time
from importlib import metadata

import pluggy

from planwise_core import hookspecs
from planwise_core.engines import EngineSpec, engine_names, engine_specs, is_engine
from planwise_core.errors import PluginError
from planwise_core.levels import OPTIMIZED
from planwise_core.names import PROJECT

log = logging.getLogger("planwise.plugins")

ENGINE_HOOKS = ("foundation_setup", "process_year", "transition_year")
__all__ = ["engine_names", "get_plugin_manager", "require_engine", "describe_plugins", "enable_tracing"]
BLOCK_ENV = "PLANWISE_BLOCK_PLUGINS"


def _builtin_plugins():
    # Imported lazily: the engines pull in dbt, which costs ~1.5 s to import.
    import planwise_compiled
    import planwise_legacy
    import planwise_optimized

    return {p.name: p for p in (planwise_compiled.plugin, planwise_optimized.plugin, planwise_legacy.plugin)}


class PlanwisePluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers which distribution each entry-point plugin came from."""

    def __init__(self):
        super().__init__(PROJECT)
        self.distributions: dict[str, tuple[str, str]] = {}


def get_plugin_manager(blocked: tuple[str, ...] = (), load_entrypoints: bool = True) -> PlanwisePluginManager:
    """A fresh manager with the built-in engines and the installed third-party plugins."""
    pm = PlanwisePluginManager()
    pm.add_hookspecs(hookspecs)
    blocked = tuple(blocked) + tuple(n for n in os.environ.get(BLOCK_ENV, "").split(",") if n)
    for name in blocked:
        pm.set_blocked(name)
    for name, plugin in _builtin_plugins().items():
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    if load_entrypoints:
        _load_entrypoints(pm)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"Plugin '{name}' is invalid: {exc}. Fix the hookimpl's name or arguments.") from None
    return pm


def _load_entrypoints(pm: PlanwisePluginManager) -> None:
    """Like ``load_setuptools_entrypoints``, but a broken plugin is named in the error."""
    for ep in metadata.entry_points(group=PROJECT):
        dist = ep.dist.name if ep.dist else "?"
        if pm.is_blocked(ep.name):
            continue
        if pm.get_plugin(ep.name) is not None:
            taken = pm.distributions.get(ep.name, ("planwise",))[0]
            if taken == dist:  # the same distribution seen twice on the path
                continue
            raise PluginError(f"Conflicting plugins for '{ep.name}': {taken}, {dist}. Uninstall one of them, or "
                              f"block the name with {BLOCK_ENV}={ep.name}.")
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import-time failure of foreign code
            raise PluginError(
                f"Plugin '{ep.name}' (distribution {dist}) failed to import: {exc!r}. "
                f"Fix or uninstall it, or block it with {BLOCK_ENV}={ep.name}."
            ) from None
        try:
            pm.register(plugin, name=ep.name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"Plugin '{ep.name}' (distribution {dist}) is invalid: {exc}") from None
        pm.distributions[ep.name] = (dist, ep.dist.version if ep.dist else "?")


def engine_choice(names: list[str]) -> str:
    """What to choose instead of an unusable engine name; never an empty list."""
    if names:
        return f"Choose one of: {', '.join(names)}"
    blocked = os.environ.get(BLOCK_ENV, "")
    why = f"{BLOCK_ENV}={blocked} blocks them" if blocked else "none is registered"
    return f"No engine plugin is available ({why}): unblock or install one, e.g. {OPTIMIZED}"


def require_engine(pm: pluggy.PluginManager, name: str) -> EngineSpec:
    specs = engine_specs(pm)
    if name not in specs:
        what = f"Plugin '{name}' is blocked ({BLOCK_ENV})" if pm.is_blocked(name) else f"Unknown plugin '{name}'"
        raise PluginError(f"{what}. {engine_choice(list(specs))}")
    return specs[name]


def describe_plugins(pm: pluggy.PluginManager, detail: bool = False) -> list[dict]:
    """Name, kind, hooks and distribution version of every registered plugin.

    With ``detail``, also where each hookimpl is defined and its ordering flags.
    """
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda np: np[0]):
        if plugin is None:  # a blocked name
            continue
        callers = pm.get_hookcallers(plugin) or []
        dist, version = getattr(pm, "distributions", {}).get(name) or _builtin_dist()
        row = {"name": name, "engine": is_engine(pm, plugin), "hooks": sorted(h.name for h in callers),
               "distribution": dist, "version": version}
        if detail:
            row["hookimpls"] = {h.name: _impl_detail(h, plugin) for h in callers}
        rows.append(row)
    return rows


def _impl_detail(caller, plugin) -> dict:
    impl = next(i for i in caller.get_hookimpls() if i.plugin is plugin)
    func = impl.function
    flags = [f for f in ("tryfirst", "trylast", "wrapper", "hookwrapper") if getattr(impl, f)]
    return {"function": f"{func.__module__}.{func.__qualname__}", "argnames": list(impl.argnames), "flags": flags}


def _builtin_dist() -> tuple[str, str]:
    try:
        return ("planwise", metadata.version("planwise"))
    except metadata.PackageNotFoundError:
        return ("planwise", "unknown")


def enable_tracing(pm: pluggy.PluginManager, logger: logging.Logger | None = None) -> None:
    """Log every hook call with the plugins it reaches and its duration."""
    logger = logger or logging.getLogger("planwise.trace")
    started: list[float] = []

    def before(hook_name, hook_impls, kwargs):
        started.append(time.perf_counter())
        logger.info("hook %s -> %s", hook_name, ", ".join(i.plugin_name for i in hook_impls))

    def after(outcome, hook_name, hook_impls, kwargs):
        logger.info("hook %s done in %.3fs", hook_name, time.perf_counter() - started.pop())

    pm.add_hookcall_monitoring(before, after)
