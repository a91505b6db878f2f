"""The `planwise` command line. Domain errors become one message and exit 1 here, and only here."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import attrs
import click

from .config import DEFAULT_CONFIG_PATH, PlanwiseConfig, check_configuration, load_config
from .errors import PlanwiseError
from .logs import setup_logging
from .names import PROJECT


class PlanwiseGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PlanwiseError as exc:
            raise click.ClickException(str(exc)) from None


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
        from .plugins import enable_tracing, get_plugin_manager

        pm = get_plugin_manager()
        if self.trace:
            enable_tracing(pm)
        return pm


@click.group(cls=PlanwiseGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    setup_logging(verbose=verbose or trace_plugins, structured=structured_logs, log_file=log_file)
    ctx.obj = CliState(plugin=plugin, config_path=config_path, trace=trace_plugins)


RUN_OVERRIDES = {
    "start_year": "simulation.start_year", "end_year": "simulation.end_year", "seed": "random_seed",
    "optimization": "orchestration.optimization_level", "max_workers": "orchestration.max_workers",
    "batch_size": "orchestration.batch_size", "fail_fast": "orchestration.fail_fast",
    "enable_compression": "orchestration.enable_compression",
}


def _with_cli_overrides(config: PlanwiseConfig, options: dict) -> PlanwiseConfig:
    overrides = {path: options[name] for name, path in RUN_OVERRIDES.items()
                 if options.get(name) not in (None, False)}
    return config.with_overrides(**overrides) if overrides else config


@cli.command()
@click.option("--start-year", type=int, help="First simulated year (overrides simulation.start_year).")
@click.option("--end-year", type=int, help="Last simulated year (overrides simulation.end_year).")
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in 10,000 employees).")
@click.option("--database", type=click.Path(dir_okay=False), default="output/planwise.duckdb", show_default=True)
@click.option("--seed", type=int, help="Random seed (overrides random_seed).")
@click.option("--optimization", type=click.Choice(["high", "medium", "low", "fallback"], case_sensitive=False),
              help="Starting optimization level of the fallback chain.")
@click.option("--max-workers", type=click.IntRange(min=1), help="dbt threads at the HIGH level.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per record batch in state checkpoints.")
@click.option("--enable-compression", is_flag=True, help="Compress year checkpoints with LZ4 frames.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed year: no retry, no fallback.")
@click.option("--performance-mode", is_flag=True, help="Add per-step detail (dbt invocations, rows, seconds).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last completed year.")
@click.option("--json", "as_json", is_flag=True, help="Print the run result as JSON.")
@click.pass_obj
def run(state: CliState, census, database, performance_mode, resume, as_json, **options):
    """Simulate every year from start to end and print a per-year summary."""
    from .orchestrator import Simulation
    from .summary import format_summary

    config = _with_cli_overrides(state.load_config(), options)
    show_progress = not as_json and sys.stderr.isatty()
    progress = ProgressBar(config) if show_progress else contextlib.nullcontext()
    with progress:
        sim = Simulation(config, database, census=census, plugin=state.plugin, pm=state.plugin_manager(),
                         performance_mode=performance_mode, progress=progress if show_progress else None)
        result = sim.run(resume=resume)
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        click.echo(format_summary(result["summary"]))
        years = ", ".join(f"{y}: {d['plugin']}/{d['optimization_level']}" for y, d in result["years"].items())
        click.echo(f"\n{len(result['completed_years'])} year(s) in {result['total_execution_time']:.1f}s "
                   f"({result['performance_metrics']['records_per_second']:.0f} rows/s) [{years}] -> {result['database']}")
    if not result["success"]:
        raise click.ClickException(f"Years failed: {result['failed_years']} ({result['error']})")


class ProgressBar:
    """A bar over foundation + years on stderr; the label names the step under way."""

    def __init__(self, config: PlanwiseConfig):
        years = config.simulation.end_year - config.simulation.start_year + 1
        self.bar = click.progressbar(length=years + 1, label="starting", file=sys.stderr, show_pos=True,
                                     item_show_func=lambda _: None)

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        self.bar.__exit__(*exc)

    def __call__(self, stage: str, **info) -> None:
        if stage in ("foundation_done", "year_done"):
            self.bar.update(1)
            return
        self.bar.label = "foundation" if stage == "foundation" else f"year {info['year']} ({info['level']})"
        self.bar.render_progress()


@cli.command()
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in).")
@click.option("--database", type=click.Path(dir_okay=False), default="output/planwise.duckdb", show_default=True)
@click.option("--benchmark", is_flag=True, help="Also print rows per second and peak memory.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def foundation(state: CliState, census, database, benchmark, as_json):
    """Load the census and build seeds, staging and the baseline workforce; time each step."""
    from .monitor import peak_rss_mb
    from .orchestrator import Simulation

    sim = Simulation(state.load_config(), database, census=census, plugin=state.plugin, pm=state.plugin_manager())
    result = sim.foundation_only()
    payload = {"plugin": result.plugin, "seconds": round(result.seconds, 3), "baseline_rows": result.baseline_rows,
               "steps": [attrs.asdict(s) for s in result.steps]}
    if benchmark:
        payload["rows_per_second"] = round(result.baseline_rows / result.seconds, 1) if result.seconds else 0.0
        payload["peak_memory_mb"] = round(peak_rss_mb(), 1)
    if as_json:
        click.echo(json.dumps(payload, indent=2))
        return
    for step in result.steps:
        click.echo(f"{step.name:<12} {step.seconds:8.2f}s  dbt invocations: {step.dbt_invocations}")
    click.echo(f"{'total':<12} {result.seconds:8.2f}s  baseline: {result.baseline_rows} actives ({result.plugin})")
    if benchmark:
        click.echo(f"rows/s: {payload['rows_per_second']}  peak memory: {payload['peak_memory_mb']} MB")


@cli.command("validate-config")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--compat", is_flag=True, help="Also report, per engine plugin, whether it can run the config.")
@click.pass_obj
def validate_config(state: CliState, file, as_json, compat):
    """Validate a configuration file; exit 0 when valid, 1 when not."""
    import yaml

    from .compat import test_configuration_compatibility

    try:
        raw = yaml.safe_load(Path(file).read_text())
    except (OSError, yaml.YAMLError):
        load_config(file)  # raises the ConfigError that names the file and line
        raw = None
    problems = check_configuration(raw if raw is not None else {})
    payload = {"file": file, "valid": not problems.errors, "errors": list(problems.errors),
               "warnings": list(problems.warnings)}
    if compat:
        payload["compatibility"] = test_configuration_compatibility(file, pm=state.plugin_manager())
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo(f"{file}: {'valid' if payload['valid'] else 'INVALID'}")
        for e in payload["errors"]:
            click.echo(f"  error: {e}")
        for w in payload["warnings"]:
            click.echo(f"  warning: {w}")
        for name, info in payload.get("compatibility", {}).get("engines", {}).items():
            click.echo(f"  engine {name}: {'compatible' if info['compatible'] else 'NOT compatible'}")
    if not payload["valid"]:
        sys.exit(1)


@cli.group("census")
def census_group():
    """Create censuses."""


@census_group.command("generate")
@click.option("--employees", type=click.IntRange(min=1), required=True, help="Number of employees.")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output file: .csv or .parquet.")
def census_generate(employees, seed, out):
    """Write a deterministic synthetic census."""
    from .census import generate_census

    path = generate_census(employees, seed, out)
    click.echo(f"wrote {employees} employees to {path}")


@cli.command()
@click.option("--database", type=click.Path(dir_okay=False, exists=True), default="output/planwise.duckdb",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def summary(database, as_json):
    """Print the per-year summary of the simulation stored in a database."""
    from .database import connect, table_exists
    from .summary import format_summary, year_summary

    with connect(Path(database)) as con:
        if not table_exists(con, "fct_workforce_snapshot"):
            raise PlanwiseError(f"{database} holds no simulation results: run `planwise run` first.")
        rows = year_summary(con, 0, 9999)
    click.echo(json.dumps(rows, indent=2, default=str) if as_json else format_summary(rows))


@cli.command()
@click.option("--start-year", type=int, help="First simulated year (overrides simulation.start_year).")
@click.option("--end-year", type=int, help="Last simulated year (overrides simulation.end_year).")
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output/compare", show_default=True,
              help="Folder for the two databases (legacy.duckdb, optimized.duckdb).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.pass_obj
def compare(state: CliState, out_dir, census, as_json, **options):
    """Run legacy and optimized on the same inputs; report times and whether every table is identical."""
    from .compare import compare_engines

    config = _with_cli_overrides(state.load_config(), options)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    result = compare_engines(config, Path(out_dir), census=census, pm=state.plugin_manager())
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        click.echo(f"legacy    {result['legacy_time']:8.1f}s\noptimized {result['optimized_time']:8.1f}s")
        click.echo(f"speed-up  {result['speedup']:8.1f}x  (improvement {result['improvement']:.1%})")
        for table, info in result["tables"].items():
            click.echo(f"{table:<28} {'identical' if info['identical'] else 'DIFFERENT'} "
                       f"({info['rows_first']} / {info['rows_second']} rows)")
    if not result["identical"]:
        raise click.ClickException("The engines' tables differ (or a run failed): regression test FAILED.")


@cli.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Also show each hookimpl's function, arguments and flags.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def plugins_cmd(state: CliState, show_all, as_json):
    """List plugins with their hooks and distribution versions."""
    from .plugins import describe_plugins

    rows = describe_plugins(state.plugin_manager(), detail=show_all)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        kind = "engine" if r["engine"] else "plugin"
        click.echo(f"{r['name']:<12} {kind:<7} {r['distribution']} {r['version']}  hooks: {', '.join(r['hooks'])}")
        for hook, impl in r.get("hookimpls", {}).items():
            flags = f" [{', '.join(impl['flags'])}]" if impl["flags"] else ""
            click.echo(f"    {hook}: {impl['function']}({', '.join(impl['argnames'])}){flags}")


def main() -> None:
    cli(prog_name=PROJECT)


# Output commands (report, export) and batch commands (batch, ensemble) live in their own modules and
# register on the same group.
from . import cli_batch, cli_outputs  # noqa: E402,F401
