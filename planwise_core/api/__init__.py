"""Programmatic (async) API in the shape of the inherited ``orchestrator_dbt`` API, over the real PlanWise run.

Every name here drives :class:`planwise_core.orchestrator.Simulation`; nothing is simulated or estimated.
The blocking runs execute in a worker thread (``asyncio.to_thread``); runs started concurrently from one event
loop are queued, not interleaved: each engine holds its process lock around a run (engines.py).

Reference with runnable examples: docs/api.md.
"""

from planwise_core.api.batch import BatchSimulationProcessor
from planwise_core.api.benchmarks import (
    run_comprehensive_performance_comparison, run_enhanced_multi_year_simulation, run_foundation_benchmark,
)
from planwise_core.api.compat import test_configuration_compatibility
from planwise_core.api.errors import OperationError, error_context
from planwise_core.api.runs import (
    FoundationSetupResult, MultiYearConfig, MultiYearOrchestrator, MultiYearResult, OptimizationLevel,
    create_high_performance_orchestrator, create_multi_year_orchestrator,
)
from planwise_core.config import load_and_validate_config, validate_configuration
from planwise_core.monitoring.monitor import PerformanceMonitor

from planwise_core.names import API_NAMES

__all__ = list(API_NAMES)
