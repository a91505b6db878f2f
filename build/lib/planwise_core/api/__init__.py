"""Programmatic (async) API in the shape of the seed ``orchestrator_dbt`` API, over the real PlanWise run.

Every name here drives :class:`planwise_core.orchestrator.Simulation`; nothing is simulated or estimated.
The blocking runs execute in a worker thread (``asyncio.to_thread``), one at a time per process: the
in-process dbt runner uses process-wide state (environment variables, dbt's adapter connections), so
runs started concurrently from one event loop are queued behind a lock rather than interleaved.

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

__all__ = [
    "OptimizationLevel", "MultiYearConfig", "MultiYearResult", "FoundationSetupResult", "MultiYearOrchestrator",
    "create_multi_year_orchestrator", "create_high_performance_orchestrator",
    "run_foundation_benchmark", "run_enhanced_multi_year_simulation", "run_comprehensive_performance_comparison",
    "error_context", "OperationError", "BatchSimulationProcessor",
    "load_and_validate_config", "validate_configuration", "test_configuration_compatibility", "PerformanceMonitor",
]
