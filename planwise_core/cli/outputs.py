"""Commands that read finished results: summary, report, export, compare."""

from __future__ import annotations

import json
from pathlib import Path

import click

from planwise_core.cli.state import CliState, with_cli_overrides
from planwise_core.errors import PlanwiseError


@click.command()
@click.option("--database", type=click.Path(dir_okay=False), default="output/planwise.duckdb", show_default=True,
              help="Database a `planwise run` wrote (opened read-only).")
@click.option("--out", type=click.Path(dir_okay=False), default="output/report.html", show_default=True,
              help="HTML file to write (replaced if it exists; its folder is created).")
def report(database, out):
    """Write a self-contained HTML report: charts, per-year summary, assumptions and performance."""
    from planwise_core.report import write_report

    path = write_report(Path(database), Path(out))
    click.echo(f"wrote {path}")


@click.command()
@click.option("--database", type=click.Path(dir_okay=False), default="output/planwise.duckdb", show_default=True,
              help="Database a `planwise run` wrote (opened read-only).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"], case_sensitive=False), default="parquet",
              show_default=True, help="File format of the exported files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output/export", show_default=True,
              help="Folder for the exported files (created; same-named files are replaced).")
def export(database, fmt, out_dir):
    """Export the events, snapshot, per-year summary, plan contributions and plan summary as Parquet or CSV."""
    from planwise_core.outputs.export import export_results

    for path in export_results(Path(database), fmt, Path(out_dir)):
        click.echo(f"wrote {path}")


@click.command()
@click.option("--database", type=click.Path(dir_okay=False, exists=True), default="output/planwise.duckdb",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def summary(database, as_json):
    """Print the per-year summary of the simulation stored in a database."""
    from planwise_core.database import connect, table_exists
    from planwise_core.outputs.summary import format_summary, year_summary

    with connect(Path(database)) as con:
        if not table_exists(con, "fct_workforce_snapshot"):
            raise PlanwiseError(f"{database} holds no simulation results: run `planwise run` first.")
        rows = year_summary(con, 0, 9999)
    click.echo(json.dumps(rows, indent=2, default=str) if as_json else format_summary(rows))


@click.command()
@click.option("--start-year", type=int, help="First simulated year (overrides simulation.start_year).")
@click.option("--end-year", type=int, help="Last simulated year (overrides simulation.end_year).")
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output/compare", show_default=True,
              help="Folder for the two databases (legacy.duckdb, optimized.duckdb).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.pass_obj
def compare(state: CliState, out_dir, census, as_json, **options):
    """Run legacy and optimized on the same inputs; report times and whether every table is identical."""
    from planwise_core.outputs.compare import compare_engines

    config = with_cli_overrides(state.load_config(), options)
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
