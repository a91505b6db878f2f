"""The employee census: synthetic generator, validator and loader.

The names below are imported on first use (PEP 562), not with the package: the configuration's checks read
``census.columns`` and ``census.formats``, and every CLI command imports those, but only the commands that
generate, validate or load a census need DuckDB and the loaders (docs/performance.md, fixed cost).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Capacity": "capacity", "capacity_for": "capacity",
    "BUILTIN_CENSUS": "generate", "builtin_census": "generate", "generate_census": "generate",
    "census_options": "load", "load_census": "load", "publish_rejects": "load", "rejects_path_for": "load",
    "DROP": "validate", "REFUSE": "validate", "CensusSummary": "validate", "validate_census": "validate",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
