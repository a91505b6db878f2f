"""The run context handed to every hook."""

from __future__ import annotations

import logging
from pathlib import Path

import attrs

from planwise_core.config import PlanwiseConfig
from planwise_core.levels import EngineSettings
from planwise_core.monitoring.monitor import PerformanceMonitor


@attrs.frozen(kw_only=True)
class RunContext:
    """Frozen: the host gives each attempt its own copy (``attrs.evolve`` with the level's settings); the
    ``engine_state`` dict, the monitor and the log are shared by every copy of one run."""

    config: PlanwiseConfig
    database: Path  # the run's build database (database/workspace.py), not the published file
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
