"""Commands on census files."""

from __future__ import annotations

import json
from datetime import date, datetime

import click

from pathlib import Path

from planwise_core.cli.state import ON_INVALID_ROWS, census_reading_options, with_cli_overrides
from planwise_core.limits import MAX_GENERATED_EMPLOYEES


@click.group("census")
def census_group():
    """Create and inspect censuses."""


@census_group.command("generate")
@click.option("--employees", type=click.IntRange(1, MAX_GENERATED_EMPLOYEES), required=True,
              help=f"Number of employees (at most {MAX_GENERATED_EMPLOYEES:,}).")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output file: .csv or .parquet.")
@click.option("--ndt-columns", is_flag=True,
              help="Add owners, officers and deferral balances (the NDT census columns, docs/ndt.md).")
def census_generate(employees, seed, out, ndt_columns):
    """Write a deterministic synthetic census."""
    from planwise_core.census import generate_census

    path = generate_census(employees, seed, out, ndt_columns=ndt_columns)
    click.echo(f"wrote {employees} employees to {path}")


def _census_date_in_range(ctx, param, value):
    """The same range as the configuration's simulation.census_date (docs/census.md)."""
    from planwise_core.config.checks import FIRST_YEAR, LAST_YEAR

    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise click.BadParameter(f"must be a date in the years {FIRST_YEAR}-{LAST_YEAR}, like "
                                 f"simulation.census_date (got {value.date().isoformat()})", ctx=ctx, param=param)
    return value


@census_group.command("profile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--census-date", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_census_date_in_range,
              help="Date the census describes (default: the configuration's, Dec 31 before start_year).")
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@ON_INVALID_ROWS
@census_reading_options
@click.pass_obj
def census_profile(state, file, census_date, as_json, **options):
    """Profile a census as the simulation's baseline will see it: bands, levels, pay, participation.

    It reads the file exactly as a run with the same configuration would: with --on-invalid-rows drop
    (or census.on_invalid_rows: drop) the invalid rows are left out and counted, not profiled. It lists the
    columns read under another name (--column, census.columns) and the columns ignored.
    """
    from planwise_core.census.load import census_options
    from planwise_core.census.profile import format_profile, profile_census

    config = with_cli_overrides(state.load_config(), options)
    when = census_date.date() if census_date else config.simulation.effective_census_date
    profile = profile_census(file, when, **census_options(config))
    click.echo(json.dumps(profile.to_dict(), indent=2) if as_json else format_profile(profile))


@census_group.command("history")
@click.option("--employees", type=click.IntRange(1, MAX_GENERATED_EMPLOYEES), required=True,
              help="Employees in the first snapshot.")
@click.option("--years", type=click.IntRange(2, 5), default=4, show_default=True, help="Number of annual snapshots.")
@click.option("--seed", type=int, default=42, show_default=True, help="Generator seed.")
@click.option("--first-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="As-of date of the first snapshot (default 2021-12-31; 2023-12-31 with --simulator).")
@click.option("--shift", nargs=2, type=(str, float), default=None, metavar="TENURE_BAND FACTOR",
              help="Multiply one tenure band's termination force in the last year (a planted shift).")
@click.option("--vanish-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of leavers whose rows are missing from the next snapshot.")
@click.option("--no-terminated-rows", is_flag=True, help="Snapshots hold actives only (no leaver rows).")
@click.option("--simulator", is_flag=True,
              help="Make every year after the first with the simulator itself (built-in tables, known quota rates).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder to write the history into.")
def census_history(employees, years, seed, first_date, shift, vanish_share, no_terminated_rows, simulator, out):
    """Write a synthetic employer history with known true rates (snapshots, snapshots.csv, truth.json)."""
    from planwise_core.fit.synthetic import generate_history

    if simulator:
        _simulated(employees, years, seed, first_date, shift, vanish_share or no_terminated_rows, out)
        return
    first_date = first_date or datetime(2021, 12, 31)
    path = generate_history(employees, out, snapshots=years, seed=seed, first=first_date.date(), shift=shift,
                            vanish_share=vanish_share, terminated_rows=not no_terminated_rows)
    click.echo(f"wrote {years} snapshots of {employees} employees to {path}")


@census_group.command("template")
@click.option("--out", type=click.Path(dir_okay=False), help="CSV file to write (default: print it).")
def census_template(out):
    """A census CSV to fill in: every column, a '#' line explaining each (the loader skips them), sample rows."""
    from planwise_core.census.template import template_text, write_template

    if out is None:
        click.echo(template_text(), nl=False)
    else:
        click.echo(f"wrote {write_template(Path(out))}")


def _simulated(employees, years, seed, first_date, shift, removed_rows, out) -> None:
    from planwise_core.config.plan import first_irs_year
    from planwise_core.fit.simulated import simulate_history

    first = first_date.date() if first_date else date(2023, 12, 31)
    if removed_rows or years < 3 or first.year + 1 < first_irs_year():
        raise click.UsageError(f"--simulator needs --years 3 or more, a --first-date from {first_irs_year() - 1}-12-31 "
                               "on (the simulated years need published IRS limits), and no --vanish-share or "
                               "--no-terminated-rows")
    try:
        path = simulate_history(employees, out, snapshots=years, seed=seed, first=first, shift=shift)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {years} snapshots made by the simulator from {employees} employees to {path}")
