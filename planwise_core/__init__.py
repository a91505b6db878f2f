"""PlanWise: multi-year workforce and retirement-plan simulation (pluggy host).

The programmatic API (docs/api.md) is exported lazily (PEP 562): ``import planwise_core`` stays cheap and
does not import dbt; ``from planwise_core import MultiYearOrchestrator`` loads planwise_core.api on first use.
"""

import pluggy

from planwise_core.names import API_NAMES as _API_NAMES, PROJECT

hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", *_API_NAMES]


def __getattr__(name: str):
    if name in _API_NAMES:
        from planwise_core import api

        value = getattr(api, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API_NAMES))
