"""Reading a YAML configuration file."""

from pathlib import Path
from typing import Any

import yaml

from planwise_core.config.schema import DEFAULT_CONFIG_PATH, PlanwiseConfig
from planwise_core.config.validate import config_from_dict
from planwise_core.errors import ConfigError


def yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"YAML syntax error: {exc}"
    return f"line {mark.line + 1}, column {mark.column + 1}: YAML syntax error: {exc.problem}"


def load_config(path: str | Path) -> PlanwiseConfig:
    """Read and validate a YAML run configuration; every failure is a ConfigError naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"cannot read file: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [yaml_problem(exc)]) from None
    # An empty file loads as None; treat it as an empty mapping so the missing
    # required sections are what gets reported.
    return config_from_dict({} if data is None else data, source)


def load_and_validate_config(config_path: str | None = None) -> dict[str, Any]:
    """Load, validate and return the normalized dict (every default filled in)."""
    return load_config(config_path or DEFAULT_CONFIG_PATH).to_dict()
