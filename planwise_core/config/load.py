"""Reading a YAML configuration file."""

from pathlib import Path
from typing import Any

from planwise_core.config.schema import DEFAULT_CONFIG_PATH, PlanwiseConfig
from planwise_core.config.validate import config_from_dict
from planwise_core.config.yaml_io import load_yaml_file, yaml_problem  # noqa: F401 - yaml_problem re-exported
from planwise_core.errors import require_path


def load_raw_config(path: str | Path) -> dict | Any:
    """The parsed YAML of a configuration file (an empty file is an empty mapping); ConfigError on any
    file problem: missing, unreadable, too large, not UTF-8, YAML syntax, duplicate keys, alias bombs."""
    data = load_yaml_file(path, "configuration file")
    # An empty file loads as None; treat it as an empty mapping so the missing
    # required sections are what gets reported.
    return {} if data is None else data


# Short names of configuration keys: the CLI's flags and the Python API's arguments, one table for both.
SHORTHANDS = {
    "start_year": "simulation.start_year", "end_year": "simulation.end_year",
    "seed": "random_seed", "random_seed": "random_seed",
    "optimization": "orchestration.optimization_level", "optimization_level": "orchestration.optimization_level",
    "max_workers": "orchestration.max_workers", "batch_size": "orchestration.batch_size",
    "fail_fast": "orchestration.fail_fast", "max_retries": "orchestration.max_retries",
    "enable_compression": "orchestration.enable_compression",
    "enable_state_compression": "orchestration.enable_compression",
    "on_invalid_rows": "census.on_invalid_rows",
    "date_format": "census.date_format", "percent_strings": "census.percent_strings",
}


def default_config(path: str | Path | None = None) -> PlanwiseConfig:
    """The configuration at ``path``; without one, the documented default file, else the schema's defaults."""
    if path is not None:
        return load_config(path)
    return load_config(DEFAULT_CONFIG_PATH) if DEFAULT_CONFIG_PATH.exists() else PlanwiseConfig()


def load_config(path: str | Path) -> PlanwiseConfig:
    """Read and validate a YAML run configuration; every failure is a ConfigError naming the file.

    An ``assumptions`` folder given relative is relative to the file's folder (made absolute here)."""
    return config_from_dict(anchor_assumptions(load_raw_config(path), Path(path).resolve().parent), str(path))


def anchor_assumptions(data: Any, base: Path) -> Any:
    """``data`` with a relative ``assumptions`` folder (or ``assumptions.folder``) made absolute from ``base``."""
    if not isinstance(data, dict):
        return data
    spec = data.get("assumptions")
    if isinstance(spec, str) and spec.strip():
        return {**data, "assumptions": str((base / spec).resolve())}
    if isinstance(spec, dict) and isinstance(spec.get("folder"), str) and spec["folder"].strip():
        return {**data, "assumptions": {**spec, "folder": str((base / spec["folder"]).resolve())}}
    return data


def load_and_validate_config(config_path: str | None = None) -> dict[str, Any]:
    """Load, validate and return the normalized dict (every default filled in)."""
    require_path(config_path, "config_path")
    return load_config(config_path or DEFAULT_CONFIG_PATH).to_dict()
