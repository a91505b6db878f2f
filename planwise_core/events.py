"""Typed run events: what a ``Simulation`` tells its ``progress`` observer as a run goes.

Each event is a small frozen object; ``stage`` is its name in files that record progress (a batch run's
``progress.jsonl``). Observers dispatch on the class, never on a string.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from planwise_core.results import YearResult


@attrs.frozen
class FoundationStarted:
    """The census and parameter tables are loaded; the engine's foundation starts."""

    stage: ClassVar[str] = "foundation"


@attrs.frozen
class FoundationDone:
    stage: ClassVar[str] = "foundation_done"


@attrs.frozen
class YearStarted:
    """An attempt at ``year`` starts at optimization level ``level`` (again after a failed attempt)."""

    stage: ClassVar[str] = "year"
    year: int
    level: str


@attrs.frozen
class YearDone:
    """``result.year`` is complete and checkpointed."""

    stage: ClassVar[str] = "year_done"
    result: YearResult

    @property
    def year(self) -> int:
        return self.result.year


@attrs.frozen
class CompareStarted:
    """Both engines' runs of ``planwise compare-engines`` succeeded; their tables are being compared."""

    stage: ClassVar[str] = "compare"


RunEvent = FoundationStarted | FoundationDone | YearStarted | YearDone
