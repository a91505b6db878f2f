"""The `planwise` command line. Domain errors become one message and exit 1 here, and only here.

The root group holds the global options; each module of this package holds one group of commands,
which are registered here (commands never import the group back).
"""

from __future__ import annotations

import click

from planwise_core.cli import batch, census, fit, ndt, outputs, plugins, run, serve
from planwise_core.cli.state import CliState
from planwise_core.errors import PlanwiseError
from planwise_core.monitoring.logs import setup_logging
from planwise_core.names import PROJECT


INTERRUPTED = 130  # 128 + SIGINT, as shells report it
# Library parameters whose flag is not simply --the-same-name (planwise_core.errors.option).
FLAGS = {"out_dir": "--out", "config_path": "--config", "dask_address": "--dask"}


class PlanwiseGroup(click.Group):
    # Old names kept working, not listed in --help: `compare` is `compare-engines` (docs/cli.md).
    aliases = {"compare": "compare-engines"}

    def get_command(self, ctx, cmd_name):
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command else name), command, rest

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PlanwiseError as exc:
            raise click.ClickException(exc.for_cli(FLAGS)) from None
        except KeyboardInterrupt:
            # One Ctrl-C: the run has recorded itself as interrupted and left the database's results as they were.
            click.echo("Interrupted: nothing was replaced; a run continues with --resume.", err=True)
            ctx.exit(INTERRUPTED)
        except OSError as exc:
            # A path the user gave that the system refuses (too long, unwritable, a folder...): one line.
            if exc.filename is None or exc.strerror is None:
                raise
            raise click.ClickException(f"Cannot use {short_path(exc.filename)}: {exc.strerror}") from None


def short_path(path) -> str:
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-50:]} ({len(text)} characters)"


WORKFLOW = """\b
A typical session:
  planwise census generate --employees 1000 --out census.csv   # or bring your own census
  planwise run --census census.csv --years 2025-2029            # simulate (output/planwise.duckdb)
  planwise summary                                              # the per-year table and its provenance
  planwise report --out report.html                             # the HTML report
  planwise export --format xlsx --out exports                   # tables for a spreadsheet
What-ifs: --set workforce.total_termination_rate=0.15, --assumptions DIR (parameter tables); `planwise COMMAND -h`
shows each command's options and an example."""

# One example per command, shown at the end of its --help (docs/cli.md has every option).
EXAMPLES = {
    "run": "planwise run --census census.csv --years 2025-2029 --set simulation.target_growth_rate=0.05",
    "foundation": "planwise foundation --census census.csv --assumptions my_tables --benchmark",
    "validate-config": "planwise validate-config my_config.yaml",
    "census": "planwise census profile census.csv",
    "summary": "planwise summary --database output/planwise.duckdb",
    "report": "planwise report --database output/planwise.duckdb --out report.html",
    "export": "planwise export --database output/planwise.duckdb --format xlsx --out exports",
    "diff": "planwise diff output/baseline.duckdb output/high_turnover.duckdb",
    "employee": "planwise employee EMP_000042 --database output/planwise.duckdb",
    "compare-engines": "planwise compare-engines --census census.csv --end-year 2026",
    "plugins": "planwise plugins --all",
    "batch": "planwise batch scenarios.yaml --output output/batches/q3",
    "ensemble": "planwise ensemble --seeds 20 --output output/ensemble",
    "fit": "planwise fit history/ --out output/fit",
    "backtest": "planwise backtest history/ --replicates 20 --out output/backtest",
    "serve": "planwise serve my-workspace --port 0",
    "ndt": "planwise ndt --database output/planwise.duckdb --year 2026",
}


@click.group(cls=PlanwiseGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=WORKFLOW,
             invoke_without_command=True)
@click.option("--plugin", help="Engine plugin to start with (default: the one the optimization level maps to).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Run configuration YAML.")
@click.option("--verbose", is_flag=True, help="Log debug detail to stderr.")
@click.option("--structured-logs", is_flag=True, help="Log JSON lines (one per event) instead of text.")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Also write the log to this file.")
@click.option("--trace-plugins", is_flag=True, help="Log every hook call with its plugins and duration.")
@click.version_option(package_name="planwise", prog_name=PROJECT)
@click.pass_context
def cli(ctx, plugin, config_path, verbose, structured_logs, log_file, trace_plugins):
    """PlanWise: multi-year workforce and retirement-plan simulation."""
    try:
        setup_logging(verbose=verbose or trace_plugins, structured=structured_logs, log_file=log_file)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {short_path(log_file)}: {exc.strerror or exc}",
                                 param_hint="'--log-file'") from None
    ctx.obj = CliState(plugin=plugin, config_path=config_path, trace=trace_plugins)
    if ctx.invoked_subcommand is None:  # `planwise` alone: the help and the workflow, exit 0
        click.echo(ctx.get_help())
        ctx.exit(0)


for _command in (run.run, run.foundation, run.validate_config, census.census_group, outputs.summary, outputs.report,
                 outputs.export, outputs.diff, outputs.compare_engines, plugins.plugins_cmd, batch.batch, batch.ensemble,
                 outputs.employee, fit.fit, fit.backtest, serve.serve, ndt.ndt):
    cli.add_command(_command)
    _command.epilog = f"\b\nExample:\n  {EXAMPLES[_command.name]}"
census.census_generate.epilog = "\b\nExample:\n  planwise census generate --employees 1000 --seed 7 --out census.csv"
census.census_history.epilog = "\b\nExample:\n  planwise census history --employees 10000 --years 4 --out history"
census.census_profile.epilog = "\b\nExample:\n  planwise census profile census.csv --json"
census.census_template.epilog = "\b\nExample:\n  planwise census template --out my_census.csv"


def main() -> None:
    cli(prog_name=PROJECT)
