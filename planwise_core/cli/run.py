"""Commands that simulate: run, foundation, validate-config."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from pathlib import Path

import attrs
import click

from planwise_core.cli.state import (
    ON_INVALID_ROWS, YEARS, CliState, census_reading_options, input_options, scenario_options, with_cli_overrides,
)
from planwise_core.config import PlanwiseConfig, check_configuration, load_raw_config
from planwise_core.events import FoundationDone, RunEvent, YearDone, YearStarted
from planwise_core.config.schema import MAX_BATCH_SIZE, MAX_WORKERS
from planwise_core.fileio import atomic_write_text
from planwise_core.names import DEFAULT_DATABASE
from planwise_core.levels import HIGH, MAX, OPTIMIZATION_LEVELS
from planwise_core.run_result import RunResult


@click.command()
@click.option("--start-year", type=YEARS, help="First simulated year (overrides simulation.start_year).")
@click.option("--end-year", type=YEARS, help="Last simulated year (overrides simulation.end_year).")
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in 10,000 employees).")
@ON_INVALID_ROWS
@census_reading_options
@click.option("--database", type=click.Path(dir_okay=False), default=DEFAULT_DATABASE, show_default=True)
@click.option("--seed", type=int, help="Random seed (overrides random_seed).")
@click.option("--optimization", type=click.Choice(OPTIMIZATION_LEVELS, case_sensitive=False),
              help="Starting optimization level of the fallback chain.")
@click.option("--max-workers", type=click.IntRange(1, MAX_WORKERS), help="dbt threads at the HIGH level.")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE),
              help="Rows per record batch in state checkpoints.")
@click.option("--enable-compression", is_flag=True, help="Compress year checkpoints with LZ4 frames.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed year: no retry, no fallback.")
@click.option("--performance-mode", is_flag=True, help="Add per-step detail (dbt invocations, rows, seconds).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last completed year.")
@click.option("--json", "as_json", is_flag=True, help="Print the run result as JSON.")
@scenario_options
@input_options
@click.option("--json-out", type=click.Path(dir_okay=False),
              help="Also write the run result as JSON to this file (replaced whole, never left half-written).")
@click.pass_obj
def run(state: CliState, census, database, performance_mode, resume, as_json, json_out, **options):
    """Simulate every year from start to end and print a per-year summary."""
    from planwise_core.orchestrator import Simulation

    config = with_cli_overrides(state.load_config(), options)
    show_progress = not as_json and sys.stderr.isatty()
    progress = ProgressBar(config, census) if show_progress else contextlib.nullcontext()
    with progress:
        sim = Simulation(config, database, census=census, plugin=state.plugin, pm=state.plugin_manager(),
                         performance_mode=performance_mode, progress=progress if show_progress else None)
        result = sim.run(resume=resume)
    if json_out:
        atomic_write_text(Path(json_out), json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    if result.continued_from:
        kept = result.resumed_years
        click.echo(f"Continued run {result.continued_from['run_id']}'s projection from its "
                   f"{result.continued_from['year']} snapshot (kept {kept[0]}-{kept[-1]}).", err=True)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        _print_outcome(result)
    if not result.success:
        raise click.ClickException(f"Years failed: {list(result.failed_years)} ({result.error}). The database's "
                                   "previous results are unchanged; continue this run with --resume.")


def _print_outcome(result: RunResult) -> None:
    from planwise_core.outputs.summary import format_census, format_summary, format_year_lines

    if not result.success:
        click.echo("The failed attempt's completed years (not published; the database keeps its previous results):")
    click.echo(format_summary(list(result.summary)))
    if result.ndt:
        click.echo(format_year_lines(list(result.ndt)))
    click.echo(format_census(result.census))
    replaced = [name for name, t in result.assumptions.items() if t["replaced"]]
    click.echo(f"parameter tables: {', '.join(replaced) + ' replaced' if replaced else 'all built-in'}")
    kept = set(result.resumed_years)
    simulated = [y for y in result.completed_years if y not in kept]
    years = ", ".join(f"{y.year}: {y.plugin}/{y.optimization_level}" for y in result.years)
    kept_note = f", {len(kept)} kept from the database" if kept else ""
    where = result.database if result.success else f"nothing published to {result.database}"
    click.echo(f"\n{len(simulated)} year(s) simulated{kept_note} in {result.total_execution_time:.1f}s "
               f"({result.performance_metrics['records_per_second']:.0f} rows/s) [{years}] -> {where}")


class ProgressBar:
    """A bar over foundation + years on stderr; the label names the step under way with the time it has taken,
    and during the foundation (no step finishes for a while) an estimate of how long it usually takes."""

    def __init__(self, config: PlanwiseConfig, census: str | None = None):
        years = config.simulation.end_year - config.simulation.start_year + 1
        self.bar = click.progressbar(length=years + 1, label="starting", file=sys.stderr, show_pos=True,
                                     item_show_func=lambda _: None)
        self.estimate = foundation_estimate(config, census)
        self.stage, self.since = "starting", time.monotonic()
        self.started = self.since
        self._stop, self._lock = threading.Event(), threading.Lock()  # the ticker and the run draw the same bar
        self._ticker = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self):
        self.bar.__enter__()
        self._ticker.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._ticker.join(timeout=2)
        self.bar.__exit__(*exc)

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self._render()

    def _render(self) -> None:
        with self._lock:
            step = time.monotonic() - self.since
            label = f"{self.stage} {step:.0f}s"
            if self.stage == "foundation":
                label += f" (usually about {self.estimate:.0f}s)"
            self.bar.label = f"{label}, {time.monotonic() - self.started:.0f}s in all"
            self.bar.render_progress()

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, (FoundationDone, YearDone)):
            with self._lock:
                self.bar.update(1)
            return
        self.stage = f"year {event.year} ({event.level})" if isinstance(event, YearStarted) else "foundation"
        self.since = time.monotonic()
        self._render()


def foundation_estimate(config: PlanwiseConfig, census: str | None) -> float:
    """Seconds the foundation usually takes (docs/performance.md): dbt's start-up, then about a second per
    10,000 employees; the lower levels start one dbt process per model (about 90 s at 10,000)."""
    from planwise_core.batch.executors import census_employees
    from planwise_core.census.generate import BUILTIN_CENSUS

    try:
        employees = census_employees(census)
    except Exception:  # noqa: BLE001 - an estimate never stops a run; the run itself reports a bad census
        employees = BUILTIN_CENSUS[0]
    start_up = 5.0 if config.orchestration.optimization_level in (MAX, HIGH) else 80.0
    return start_up + employees / 10_000


@click.command()
@click.option("--census", type=click.Path(dir_okay=False), help="Census CSV or Parquet (default: built-in).")
@ON_INVALID_ROWS
@census_reading_options
@click.option("--database", type=click.Path(dir_okay=False), default=DEFAULT_DATABASE, show_default=True)
@click.option("--benchmark", is_flag=True, help="Also print rows per second and peak memory.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@scenario_options
@input_options
@click.pass_obj
def foundation(state: CliState, census, database, benchmark, as_json, **options):
    """Load the census and parameter tables and build staging and the baseline workforce; time each step."""
    from planwise_core.monitoring.monitor import peak_rss_mb
    from planwise_core.orchestrator import Simulation

    config = with_cli_overrides(state.load_config(), options)
    sim = Simulation(config, database, census=census, plugin=state.plugin, pm=state.plugin_manager())
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


@click.command("validate-config")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--compat", is_flag=True, help="Also report, per engine plugin, whether it can run the config.")
@click.pass_obj
def validate_config(state: CliState, file, as_json, compat):
    """Validate a configuration file; exit 0 when valid, 1 when not."""
    from planwise_core.api.compat import test_configuration_compatibility

    problems = check_configuration(load_raw_config(file))  # a file problem is a ConfigError naming the file
    errors = list(problems.errors) or _table_problems(file)
    payload = {"file": file, "valid": not errors, "errors": errors, "warnings": list(problems.warnings)}
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


def _table_problems(file: str) -> list[str]:
    """The problems of the parameter tables a valid configuration names (``assumptions:``), as a run reports them."""
    from planwise_core.assumptions import AssumptionsError, resolve_assumptions
    from planwise_core.config import load_config

    try:
        resolve_assumptions(load_config(file))
    except AssumptionsError as exc:
        return list(exc.problems)
    return []
