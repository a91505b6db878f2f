"""`planwise ndt`: the nondiscrimination tests of a finished run (docs/ndt.md), read-only."""

from __future__ import annotations

import json
from pathlib import Path

import click

from planwise_core.names import DEFAULT_DATABASE


@click.command("ndt")
@click.option("--database", type=click.Path(dir_okay=False), default=DEFAULT_DATABASE, show_default=True,
              help="Database a `planwise run` with plan.ndt.enabled wrote (opened read-only).")
@click.option("--year", type=click.IntRange(1900, 2200), help="Only this simulated year.")
@click.option("--json", "as_json", is_flag=True, help="Print every test row as JSON (amounts as exact strings).")
def ndt(database, year, as_json):
    """Each year's nondiscrimination tests: status, HCE and NHCE averages, limit, margin, correction cost and the
    uniform-QNEC alternative; coverage, 401(a)(4) and top-heavy."""
    from planwise_core.outputs.ndt import format_ndt, ndt_results
    from planwise_core.outputs.results import open_results

    with open_results(Path(database)) as con:
        rows = ndt_results(con, year)
    click.echo(json.dumps(rows, indent=2) if as_json else format_ndt(rows))
