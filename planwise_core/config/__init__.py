"""Run configuration: the schema with its defaults (schema), value checks (checks), validation (validate)
and YAML loading (load)."""

from planwise_core.config.load import (
    SHORTHANDS, default_config, load_and_validate_config, load_config, load_raw_config, yaml_problem,
)
from planwise_core.config.describe import config_schema
from planwise_core.config.schema import DEFAULT_CONFIG_PATH, PlanwiseConfig
from planwise_core.config.validate import (
    Problems, check_configuration, config_from_dict, unknown_key_message, validate_configuration,
)
