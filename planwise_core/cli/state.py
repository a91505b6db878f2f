"""What every command shares: the global options, run overrides from command-line flags."""

from __future__ import annotations

import attrs
import click

from planwise_core.config import DEFAULT_CONFIG_PATH, PlanwiseConfig, load_config
from planwise_core.config.checks import FIRST_YEAR, LAST_YEAR
from planwise_core.config.schema import INVALID_ROW_POLICIES

# The configuration's year range, so a bad --start-year is a usage error naming the option.
YEARS = click.IntRange(FIRST_YEAR, LAST_YEAR)


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
    "enable_compression": "orchestration.enable_compression", "on_invalid_rows": "census.on_invalid_rows",
}

ON_INVALID_ROWS = click.option(
    "--on-invalid-rows", type=click.Choice(INVALID_ROW_POLICIES),
    help="A census with invalid rows: refuse it whole, or drop those rows and list them in "
         "<database>.rejects.csv (overrides census.on_invalid_rows; default refuse).")


def with_cli_overrides(config: PlanwiseConfig, options: dict) -> PlanwiseConfig:
    overrides = {path: options[name] for name, path in RUN_OVERRIDES.items()
                 if options.get(name) not in (None, False)}
    return config.with_overrides(**overrides) if overrides else config


def _remember(attribute: str):
    """Store an option given after the command name where the global option of the same name goes."""

    def callback(ctx: click.Context, param: click.Parameter, value):
        if value is None:
            return
        state = ctx.find_object(CliState)
        earlier = getattr(state, attribute)
        if earlier is not None and earlier != value:
            raise click.BadParameter(f"given before the command as {earlier!r} and after it as {value!r}; "
                                     "give it once", ctx=ctx, param=param)
        setattr(state, attribute, value)

    return callback


def input_options(f):
    """``--config`` and ``--plugin`` after the command name, the same as the global ones before it."""
    f = click.option("--plugin", expose_value=False, callback=_remember("plugin"),
                     help="Engine plugin to start with (the global --plugin, accepted here too).")(f)
    return click.option("--config", expose_value=False, type=click.Path(dir_okay=False),
                        callback=_remember("config_path"),
                        help="Run configuration YAML (the global --config, accepted here too).")(f)
