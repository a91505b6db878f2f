"""The one name used for the plugin manager, the markers and the entry-point group."""

PROJECT = "planwise"
# Where a run writes when no database is named (the CLI's --database default, the API's database_path).
DEFAULT_DATABASE = "output/planwise.duckdb"
# The programmatic API (docs/api.md): exported by planwise_core.api and, lazily, by planwise_core.
API_NAMES = (
    "OptimizationLevel", "MultiYearConfig", "MultiYearResult", "FoundationSetupResult", "MultiYearOrchestrator",
    "create_multi_year_orchestrator", "create_high_performance_orchestrator",
    "run_foundation_benchmark", "run_enhanced_multi_year_simulation", "run_comprehensive_performance_comparison",
    "error_context", "OperationError", "BatchSimulationProcessor",
    "load_and_validate_config", "validate_configuration", "test_configuration_compatibility", "PerformanceMonitor",
)


def planwise_version() -> str:
    """The installed planwise distribution's version ("unknown" when run from a tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("planwise")
    except PackageNotFoundError:
        return "unknown"
