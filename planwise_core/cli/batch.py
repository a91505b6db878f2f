"""CLI commands that run many simulations: ``planwise batch`` and ``planwise ensemble`` (docs/batch.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from planwise_core.cli.state import YEARS, CliState, input_options, with_cli_overrides

EXECUTOR_OPTIONS = [
    click.option("--max-concurrent", type=click.IntRange(min=1),
                 help="Runs at once (default: local: the cores, capped by free memory; Dask: the workers' threads)."),
    click.option("--dask", metavar="local|tcp://HOST:PORT",
                 help="Run on Dask distributed: 'local' starts a LocalCluster (--max-concurrent worker processes), "
                      "an address uses that scheduler's workers."),
    click.option("--census", type=click.Path(dir_okay=False, exists=True),
                 help="Census CSV or Parquet for every run (default: built-in 10,000 employees)."),
    click.option("--force", is_flag=True, help="Redo every run, even those already completed."),
    click.option("--no-report", is_flag=True, help="Do not write report.html."),
    click.option("--json", "as_json", is_flag=True, help="Print the batch result as JSON (no progress)."),
    click.option("--quiet", is_flag=True, help="No progress output."),
]


def executor_options(f):
    for option in reversed(EXECUTOR_OPTIONS):
        f = option(f)
    return f


def _run(plan, options: dict, dry_run: bool = False) -> None:
    from planwise_core.batch import run_batch, summarize_failures
    from planwise_core.batch.progress import progress_for

    if dry_run:
        for spec in plan.runs:
            click.echo(f"{spec.run_id:<40} {spec.folder}")
        for invalid in plan.invalid:
            click.echo(f"{invalid.scenario:<40} INVALID: {'; '.join(invalid.problems)}")
        if plan.invalid:
            sys.exit(1)
        return
    for invalid in plan.invalid:  # reported before anything runs
        click.echo(f"scenario {invalid.scenario!r} is invalid and will not run:\n" +
                   "\n".join(f"  - {p}" for p in invalid.problems), err=True)
    progress = progress_for(quiet=options["as_json"] or options["quiet"])
    result = run_batch(plan, max_concurrent=options["max_concurrent"], dask=options["dask"], progress=progress,
                       force=options["force"], report=not options["no_report"])
    if options["as_json"]:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        payload = result.to_dict()
        click.echo(f"{payload['completed_runs']}/{payload['planned_runs']} runs completed "
                   f"({payload['reused_runs']} reused) in {result.seconds:.1f}s on {result.executor}")
        click.echo(f"results: {result.database}")
        if result.report:
            click.echo(f"report:  {result.report}")
    if not result.success:
        raise click.ClickException(summarize_failures(result))


@click.command()
@click.argument("scenarios", type=click.Path(dir_okay=False))
@click.option("--output", type=click.Path(file_okay=False),
              help="Batch folder (default: output/batches/<scenario file name>).")
@executor_options
@click.option("--dry-run", is_flag=True, help="Validate the scenarios and list the runs; run nothing.")
@input_options
@click.pass_obj
def batch(state: CliState, scenarios, output, dry_run, **options):
    """Run every scenario of SCENARIOS (YAML) over its seeds, then aggregate and report.

    Each scenario is a name, configuration overrides and optionally seeds, a census and an engine plugin.
    Exits non-zero when any run is invalid or failed; running the same command again redoes only those.
    """
    from planwise_core.batch import plan_batch

    output = output or Path("output") / "batches" / Path(scenarios).stem
    plan = plan_batch(scenarios, output, base_config=state.load_config(), census=options["census"],
                      plugin=state.plugin)
    _run(plan, options, dry_run)


@click.command()
@click.option("--seeds", type=click.IntRange(min=1), required=True, help="Number of seeds (runs).")
@click.option("--first-seed", type=int, help="First seed; the others follow it (default: the config's random_seed).")
@click.option("--name", default="ensemble", show_default=True, help="Scenario name for the runs.")
@click.option("--start-year", type=YEARS, help="First simulated year (overrides simulation.start_year).")
@click.option("--end-year", type=YEARS, help="Last simulated year (overrides simulation.end_year).")
@click.option("--output", type=click.Path(file_okay=False), default="output/ensemble", show_default=True,
              help="Batch folder.")
@executor_options
@input_options
@click.pass_obj
def ensemble(state: CliState, seeds, first_seed, name, output, **options):
    """Run one configuration over N seeds; report P10/P50/P90 bands of every metric."""
    from planwise_core.batch import plan_ensemble

    config = with_cli_overrides(state.load_config(), options)
    plan = plan_ensemble(seeds, output, base_config=config, census=options["census"], plugin=state.plugin,
                         first_seed=first_seed, name=name)
    _run(plan, options)
