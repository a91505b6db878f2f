"""The run context handed to every hook."""

from __future__ import annotations

import logging
from pathlib import Path

import attrs

from .config import PlanwiseConfig
from .monitor import PerformanceMonitor


@attrs.frozen
class EngineSettings:
    """How an engine drives dbt: dbt threads, and one invocation per year or per model."""

    threads: int = 1
    per_model: bool = False


@attrs.define(kw_only=True)
class RunContext:
    config: PlanwiseConfig
    database: Path
    run_id: str
    settings: EngineSettings = EngineSettings()
    performance_mode: bool = False
    monitor: PerformanceMonitor = attrs.field(factory=PerformanceMonitor)
    log: logging.Logger = attrs.field(factory=lambda: logging.getLogger("planwise.run"))
    # Per-plugin scratch space (an engine keeps its dbt session here), keyed by plugin name.
    engine_state: dict = attrs.field(factory=dict)

    @property
    def start_year(self) -> int:
        return self.config.simulation.start_year

    @property
    def end_year(self) -> int:
        return self.config.simulation.end_year
