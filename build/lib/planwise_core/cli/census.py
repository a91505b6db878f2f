"""Commands on census files."""

from __future__ import annotations

import click


@click.group("census")
def census_group():
    """Create censuses."""


@census_group.command("generate")
@click.option("--employees", type=click.IntRange(min=1), required=True, help="Number of employees.")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output file: .csv or .parquet.")
def census_generate(employees, seed, out):
    """Write a deterministic synthetic census."""
    from planwise_core.census import generate_census

    path = generate_census(employees, seed, out)
    click.echo(f"wrote {employees} employees to {path}")
