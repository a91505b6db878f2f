"""Small frozen result objects returned by hooks and by the orchestrator."""

from __future__ import annotations

import attrs


@attrs.frozen
class StepResult:
    """One timed step: a dbt invocation or a group of them, or a check."""

    name: str
    seconds: float
    dbt_invocations: int = 0
    rows: int = 0


@attrs.frozen
class FoundationResult:
    plugin: str
    steps: tuple[StepResult, ...]
    seconds: float
    baseline_rows: int = 0


@attrs.frozen
class YearResult:
    year: int
    plugin: str
    steps: tuple[StepResult, ...]
    seconds: float
    rows: int = 0

    @property
    def dbt_invocations(self) -> int:
        return sum(s.dbt_invocations for s in self.steps)


@attrs.frozen
class TransitionResult:
    from_year: int
    to_year: int
    carried: int
    checks: tuple[str, ...] = ()


@attrs.frozen
class PluginMetrics:
    plugin: str
    metrics: dict = attrs.field(factory=dict)
