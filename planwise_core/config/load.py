"""Reading a YAML configuration file."""

from pathlib import Path
from typing import Any

from planwise_core.config.schema import DEFAULT_CONFIG_PATH, PlanwiseConfig
from planwise_core.config.validate import config_from_dict
from planwise_core.config.yaml_io import load_yaml_file, yaml_problem  # noqa: F401 - yaml_problem re-exported


def load_raw_config(path: str | Path) -> dict | Any:
    """The parsed YAML of a configuration file (an empty file is an empty mapping); ConfigError on any
    file problem: missing, unreadable, too large, not UTF-8, YAML syntax, duplicate keys, alias bombs."""
    data = load_yaml_file(path, "configuration file")
    # An empty file loads as None; treat it as an empty mapping so the missing
    # required sections are what gets reported.
    return {} if data is None else data


def load_config(path: str | Path) -> PlanwiseConfig:
    """Read and validate a YAML run configuration; every failure is a ConfigError naming the file."""
    return config_from_dict(load_raw_config(path), str(path))


def load_and_validate_config(config_path: str | None = None) -> dict[str, Any]:
    """Load, validate and return the normalized dict (every default filled in)."""
    return load_config(config_path or DEFAULT_CONFIG_PATH).to_dict()
