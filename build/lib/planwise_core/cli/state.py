"""What every command shares: the global options, run overrides from command-line flags."""

from __future__ import annotations

import attrs

from planwise_core.config import DEFAULT_CONFIG_PATH, PlanwiseConfig, load_config


@attrs.define
class CliState:
    plugin: str | None
    config_path: str | None
    trace: bool

    def load_config(self) -> PlanwiseConfig:
        if self.config_path:
            return load_config(self.config_path)
        return load_config(DEFAULT_CONFIG_PATH) if DEFAULT_CONFIG_PATH.exists() else PlanwiseConfig()

    def plugin_manager(self):
        from planwise_core.manager import enable_tracing, get_plugin_manager

        pm = get_plugin_manager()
        if self.trace:
            enable_tracing(pm)
        return pm


RUN_OVERRIDES = {
    "start_year": "simulation.start_year", "end_year": "simulation.end_year", "seed": "random_seed",
    "optimization": "orchestration.optimization_level", "max_workers": "orchestration.max_workers",
    "batch_size": "orchestration.batch_size", "fail_fast": "orchestration.fail_fast",
    "enable_compression": "orchestration.enable_compression",
}


def with_cli_overrides(config: PlanwiseConfig, options: dict) -> PlanwiseConfig:
    overrides = {path: options[name] for name, path in RUN_OVERRIDES.items()
                 if options.get(name) not in (None, False)}
    return config.with_overrides(**overrides) if overrides else config
