"""Whether a configuration is valid and which engine plugins can run it."""

from __future__ import annotations

from pathlib import Path

from planwise_core.config import DEFAULT_CONFIG_PATH, check_configuration, config_from_dict, load_raw_config
from planwise_core.errors import ConfigError
from planwise_core.levels import LEGACY, OPTIMIZED


def test_configuration_compatibility(config_path: str | Path | None = None, pm=None) -> dict:
    """Report config validity and, per engine plugin, whether it can run the config.

    Keys: config_valid, new_system_compatible, legacy_compatible, issues, recommendations, engines.
    """
    from planwise_core.engines import engine_specs
    from planwise_core.manager import get_plugin_manager

    path = Path(config_path or DEFAULT_CONFIG_PATH)
    issues: list[str] = []
    try:
        raw = load_raw_config(path)
    except ConfigError as exc:
        raw, issues = None, [f"{path}: {p}" for p in exc.problems]
    problems = check_configuration(raw) if raw is not None else None
    if problems is not None:
        issues += list(problems.errors)
    recommendations = list(problems.warnings) if problems is not None else []
    pm = pm or get_plugin_manager()
    engines = {}
    config = None
    if not issues:
        try:
            config = config_from_dict(raw, str(path))
        except ConfigError as exc:
            issues += exc.problems
    for name, spec in engine_specs(pm).items():
        plugin_issues = list(spec.engine.check(config)) if config else ["configuration is invalid"]
        engines[name] = {"compatible": not plugin_issues, "issues": plugin_issues}
        recommendations += [f"{name}: {r}" for r in (spec.engine.advice(config) if config else ())]
    return {
        "config_path": str(path), "config_valid": not issues,
        "new_system_compatible": engines.get(OPTIMIZED, {}).get("compatible", False),
        "legacy_compatible": engines.get(LEGACY, {}).get("compatible", False),
        "issues": issues, "recommendations": recommendations, "engines": engines,
    }


test_configuration_compatibility.__test__ = False  # an inherited API name, not a pytest test

