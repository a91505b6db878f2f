"""Commands that read finished results: summary, report, export, diff; and compare-engines, the engines' regression check."""

from __future__ import annotations

import json
from pathlib import Path

import click

from planwise_core.cli.state import YEARS, CliState, input_options, with_cli_overrides
from planwise_core.levels import COMPILED, LEGACY, OPTIMIZED
from planwise_core.names import DEFAULT_DATABASE


@click.command()
@click.option("--database", type=click.Path(dir_okay=False), default=DEFAULT_DATABASE, show_default=True,
              help="Database a `planwise run` wrote (opened read-only).")
@click.option("--out", type=click.Path(dir_okay=False), default="output/report.html", show_default=True,
              help="HTML file to write (replaced if it exists; its folder is created).")
def report(database, out):
    """Write a self-contained HTML report: charts, per-year summary, assumptions and performance."""
    from planwise_core.report import write_report

    path = write_report(Path(database), Path(out))
    click.echo(f"wrote {path}")


@click.command()
@click.option("--database", type=click.Path(dir_okay=False), default=DEFAULT_DATABASE, show_default=True,
              help="Database a `planwise run` wrote (opened read-only).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "xlsx"], case_sensitive=False),
              default="parquet", show_default=True,
              help="Parquet or CSV files (one per table), or one Excel workbook (results.xlsx).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output/export", show_default=True,
              help="Folder for the files (created; same-named files are replaced).")
@click.option("--years", help="Only these years: 2027 or 2027-2029 (each must be in the database).")
@click.option("--tables", help="Only these tables, comma-separated: summary, plan_summary, events, snapshot, "
                               "contributions (default: all; xlsx: summary and plan_summary).")
@click.option("--detail", is_flag=True, help="xlsx: also the long tables (events, snapshot, contributions).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
def export(database, fmt, out_dir, years, tables, detail, quiet):
    """Export the per-year summary, the plan cost (when the plan layer ran), the events and the workforce snapshot
    as Parquet or CSV files, or as one Excel workbook with a metadata sheet (per-year tables unless --detail)."""
    from planwise_core.outputs.export import export_results, parse_years

    span = parse_years(years) if years is not None else None
    progress = None if quiet else ExportProgress()
    for path in export_results(Path(database), fmt, Path(out_dir), years=span, tables=tables, detail=detail,
                               progress=progress):
        click.echo(f"wrote {path}")


class ExportProgress:
    """stderr lines as an export goes: each table when done, and every 100,000 rows of a long sheet."""

    STEP = 100_000

    def __init__(self):
        import time

        self.clock, self.shown = time.monotonic, {}
        self.since = self.clock()  # when the table now being written started: when the last one ended

    def __call__(self, table: str, done: int, total: int) -> None:
        if done >= total:
            now = self.clock()
            click.echo(f"export: {table}: {total:,} rows in {now - self.since:.1f}s", err=True)
            self.since = now
        elif done // self.STEP > self.shown.get(table, 0):
            self.shown[table] = done // self.STEP
            click.echo(f"export: {table}: {done:,} of {total:,} rows ({100 * done // total} %)", err=True)


@click.command()
@click.option("--database", type=click.Path(dir_okay=False, exists=True), default=DEFAULT_DATABASE,
              show_default=True, help="Database a `planwise run` wrote (opened read-only).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def summary(database, as_json):
    """Print the per-year summary of the simulation stored in a database (opened read-only)."""
    from planwise_core.outputs.provenance import format_provenance, run_provenance
    from planwise_core.outputs.results import open_results
    from planwise_core.outputs.summary import (
        census_load, format_census, format_summary, format_year_lines, ndt_year_lines, year_summary,
    )

    with open_results(Path(database)) as con:
        rows = year_summary(con, 0, 9999)
        census = census_load(con)
        provenance = run_provenance(con)
        ndt = ndt_year_lines(con)
    if as_json:
        # With NDT results each year's row gains its NDT line (docs/ndt.md); without, the rows are run --json's.
        by_year = {line["year"]: line for line in ndt}
        rows = [{**row, "ndt": by_year.get(row["simulation_year"])} for row in rows] if ndt else rows
        click.echo(json.dumps(rows, indent=2, default=str))
    else:
        click.echo(format_summary(rows))
        if ndt:
            click.echo(format_year_lines(ndt))
        click.echo(format_census(census))
        click.echo(format_provenance(provenance))


@click.command()
@click.argument("employee_id", metavar="ID")
@click.option("--database", type=click.Path(dir_okay=False, exists=True), default=DEFAULT_DATABASE,
              show_default=True, help="Database a `planwise run` wrote (opened read-only).")
@click.option("--json", "as_json", is_flag=True, help="Print the story as JSON (cents, basis points, ISO dates).")
def employee(employee_id, database, as_json):
    """Tell one employee's story year by year: events, pay, level, plan dates, and every money amount with the
    limits and the rule that produced it."""
    from planwise_core.outputs.employee import UnknownEmployeeError, employee_story

    try:
        story = employee_story(Path(database), employee_id)
    except UnknownEmployeeError as exc:
        raise click.BadParameter(str(exc), param_hint="'ID'") from None
    click.echo(json.dumps(story.to_dict(), indent=2) if as_json else story.text())


@click.command("diff")
@click.argument("first", type=click.Path(dir_okay=False))
@click.argument("second", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.option("--allow-different-census", is_flag=True,
              help="Compare even when the two databases were simulated from different censuses.")
def diff(first, second, as_json, allow_different_census):
    """Per-year changes of every headline metric from FIRST to SECOND (two result databases, opened read-only),
    and their configuration differences key by key."""
    from planwise_core.outputs.diff import diff_databases, format_diff, to_json

    result = diff_databases(Path(first), Path(second), allow_different_census=allow_different_census)
    click.echo(to_json(result) if as_json else format_diff(result))


ALL_ENGINES = ",".join((COMPILED, OPTIMIZED, LEGACY))


@click.command("compare-engines")
@click.option("--start-year", type=YEARS, help="First simulated year (overrides simulation.start_year).")
@click.option("--end-year", type=YEARS, help="Last simulated year (overrides simulation.end_year).")
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="output/compare", show_default=True,
              help="Folder for the databases (one per engine: compiled.duckdb, optimized.duckdb, legacy.duckdb).")
@click.option("--engines", default=ALL_ENGINES, show_default=True,
              help="Engines to compare, comma-separated: optimized and one or more of compiled, legacy "
                   "(leave legacy out for a quick check: it is the slow one).")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@input_options
@click.pass_obj
def compare_engines(state: CliState, out_dir, census, engines, as_json, quiet, **options):
    """Regression check of the engines: run compiled, optimized and legacy (or --engines) on the same inputs,
    report their times and whether every result table is identical to optimized's (exit 1 if not)."""
    from planwise_core.engine_comparison import compare_engines as run_all

    config = with_cli_overrides(state.load_config(), options)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    progress = None if quiet else _engine_progress
    result = run_all(config, Path(out_dir), census=census, pm=state.plugin_manager(), progress=progress,
                     engines=tuple(engines.split(",")))
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        for engine in result["engines"]:
            click.echo(f"{engine:<10}{result[engine + '_time']:8.1f}s")
        for engine, tables in result["comparisons"].items():
            for table, info in tables.items():
                click.echo(f"{engine + ' vs optimized':<24} {table:<28} "
                           f"{'identical' if info['identical'] else 'DIFFERENT'} "
                           f"({info['rows_first']} / {info['rows_second']} rows)")
    if not result["identical"]:
        raise click.ClickException("The engines' tables differ (or a run failed, or a year fell back to another engine): "
                                   "regression test FAILED.")


def _engine_progress(engine: str, event) -> None:
    """One stderr line per step of each engine's run (stdout keeps the result, --json included)."""
    from planwise_core.events import CompareStarted, FoundationStarted, YearDone, YearStarted

    if isinstance(event, YearDone):
        click.echo(f"[{engine}] year {event.year} done in {event.result.seconds:.1f}s", err=True)
    elif isinstance(event, (FoundationStarted, YearStarted, CompareStarted)):
        what = {FoundationStarted: "census and foundation", CompareStarted: "comparing the tables"}.get(
            type(event)) or f"year {event.year} ({event.level})"
        click.echo(f"[{engine}] {what}...", err=True)
