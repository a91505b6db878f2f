"""Commands on census files."""

from __future__ import annotations

import click

from planwise_core.limits import MAX_GENERATED_EMPLOYEES


@click.group("census")
def census_group():
    """Create censuses."""


@census_group.command("generate")
@click.option("--employees", type=click.IntRange(1, MAX_GENERATED_EMPLOYEES), required=True,
              help=f"Number of employees (at most {MAX_GENERATED_EMPLOYEES:,}).")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output file: .csv or .parquet.")
def census_generate(employees, seed, out):
    """Write a deterministic synthetic census."""
    from planwise_core.census import generate_census

    path = generate_census(employees, seed, out)
    click.echo(f"wrote {employees} employees to {path}")
