"""CLI commands that read a finished simulation: report and export."""

from __future__ import annotations

from pathlib import Path

import click

from .cli import cli


@cli.command()
@click.option("--database", type=click.Path(dir_okay=False), default="output/planwise.duckdb", show_default=True,
              help="Database a `planwise run` wrote (opened read-only).")
@click.option("--out", type=click.Path(dir_okay=False), default="output/report.html", show_default=True,
              help="HTML file to write (replaced if it exists; its folder is created).")
def report(database, out):
    """Write a self-contained HTML report: charts, per-year summary, assumptions and performance."""
    from .report import write_report

    path = write_report(Path(database), Path(out))
    click.echo(f"wrote {path}")


@cli.command()
@click.option("--database", type=click.Path(dir_okay=False), default="output/planwise.duckdb", show_default=True,
              help="Database a `planwise run` wrote (opened read-only).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"], case_sensitive=False), default="parquet",
              show_default=True, help="File format of the exported files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output/export", show_default=True,
              help="Folder for events, snapshot and summary files (created; same-named files are replaced).")
def export(database, fmt, out_dir):
    """Export the events, the workforce snapshot and the per-year summary as Parquet or CSV files."""
    from .export import export_results

    for path in export_results(Path(database), fmt, Path(out_dir)):
        click.echo(f"wrote {path}")
