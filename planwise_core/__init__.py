"""PlanWise: multi-year workforce and retirement-plan simulation (pluggy host)."""

import pluggy

from .names import PROJECT

hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl"]
