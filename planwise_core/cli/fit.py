"""`planwise fit`: parameter tables and rates from the employer's own history (docs/fit.md)."""

from __future__ import annotations

import json

import click

from planwise_core.config.schema import INVALID_ROW_POLICIES


class Standard(click.ParamType):
    """A full-credibility standard: a number >= 0 or ``inf``."""

    name = "N|inf"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number (or inf)", param, ctx)
        if number != number or number < 0:
            self.fail(f"{value!r}: need 0, a positive number or inf", param, ctx)
        return number


def fit_options(function):
    """The options every fit shares (fit, and backtest's fitted arm)."""
    for decorator in reversed((
        click.option("--on-invalid-rows", type=click.Choice(INVALID_ROW_POLICIES), default="refuse",
                     show_default=True, help="A snapshot with invalid rows: refuse it, or drop those rows."),
        click.option("--ci-level", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
                     show_default=True, help="Level of every reported interval."),
        click.option("--credibility-p", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.90,
                     show_default=True, help="Full credibility: probability P of being within k."),
        click.option("--credibility-k", type=click.FloatRange(0, min_open=True), default=0.05, show_default=True,
                     help="Full credibility: relative error k."),
        click.option("--full-credibility", type=Standard(), default=None,
                     help="The full-credibility standard in events directly (0: experience as it is; inf: base)."),
        click.option("--min-hires", type=click.IntRange(1), default=50, show_default=True,
                     help="Hires needed to fit the hiring profile."),
        click.option("--min-level-hires", type=click.IntRange(1), default=30, show_default=True,
                     help="Hires of a level needed to fit its hiring salary range."),
        click.option("--min-promotions", type=click.IntRange(1), default=30, show_default=True,
                     help="Promotions needed to fit the promotion raise range."),
    )):
        function = decorator(function)
    return function


def options_from(kwargs: dict):
    from planwise_core.fit import FitOptions

    names = ("on_invalid_rows", "ci_level", "credibility_p", "credibility_k", "full_credibility", "min_hires",
             "min_level_hires", "min_promotions", "force")
    return FitOptions(**{n: kwargs[n] for n in names if n in kwargs})


@click.command("fit")
@click.argument("history", required=False, type=click.Path(file_okay=False))
@click.option("--snapshot", "snapshots", multiple=True, metavar="DATE=FILE",
              help="A snapshot and its as-of date (repeat; replaces HISTORY).")
@click.option("--out", default="output/fit", show_default=True, type=click.Path(file_okay=False),
              help="Fit folder to write (built beside its name, then renamed into place).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Base configuration: the rates the fit blends toward (default: the built-in one).")
@click.option("--assumptions", type=click.Path(file_okay=False),
              help="Base parameter tables (default: the built-in tables).")
@fit_options
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def fit(state, history, snapshots, out, config_path, assumptions, as_json, **kwargs):
    """Fit the parameter tables and rates from 2-5 annual census snapshots of the same employer."""
    from planwise_core.fit import fit_history

    if not history and not snapshots:
        raise click.UsageError("give a HISTORY folder or --snapshot DATE=FILE (at least twice)")
    config = config_path or state.config_path
    result = fit_history(history, out, config=config, assumptions=assumptions, options=options_from(kwargs),
                         snapshots=snapshots)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(f"fitted {len(result.snapshots)} snapshots into {result.out}: {len(result.published)} values, "
               f"{len(result.not_fitted)} not fitted, {len(result.warnings)} warnings")
    click.echo(f"run it: planwise run --config {result.config} --census {result.snapshots[-1]['file']}")


def _materiality(values) -> dict:
    from planwise_core.fit.backtest.scoring import MATERIALITY

    out = {}
    for item in values:
        family, _, fraction = item.partition("=")
        try:
            number = float(fraction)
        except ValueError:
            number = -1.0
        if family not in MATERIALITY or not 0 <= number <= 1:
            raise click.BadParameter(f"{item!r}: write family=fraction with a family of "
                                     f"{', '.join(MATERIALITY)} and a fraction in [0, 1]", param_hint="'--materiality'")
        out[family] = number
    return out


@click.command("backtest")
@click.argument("history", required=False, type=click.Path(file_okay=False))
@click.option("--snapshot", "snapshots", multiple=True, metavar="DATE=FILE",
              help="A snapshot and its as-of date (repeat; replaces HISTORY).")
@click.option("--holdout", type=click.IntRange(1, 3), default=1, show_default=True,
              help="Held-out snapshots at the end (simulated and scored).")
@click.option("--replicates", type=click.IntRange(2, 1000), default=20, show_default=True,
              help="Replicate runs per arm (each its own seed and parameter draw).")
@click.option("--first-seed", type=int, default=1, show_default=True, help="Seed of the first replicate.")
@click.option("--growth", type=click.Choice(["actual", "fitted"]), default="actual", show_default=True,
              help="actual: impose each held-out year's real headcount; fitted: forecast it too.")
@click.option("--parameter-uncertainty/--no-parameter-uncertainty", default=True, show_default=True,
              help="Draw the rates per replicate (estimation and process noise), or seeds only.")
@click.option("--compare-built-in/--no-compare-built-in", default=True, show_default=True,
              help="Also run the base tables and rates (the built-in arm) on the same seeds.")
@click.option("--materiality", multiple=True, metavar="FAMILY=FRACTION",
              help="Materiality of a metric family (headcount 0.02, flows 0.05, pay 0.01, plan 0.02).")
@click.option("--fail-on", type=click.Choice(["never", "warn", "fail"]), default="never", show_default=True,
              help="Exit 3 when the verdict reaches this level (the scorecard is still written).")
@click.option("--out", default="output/backtest", show_default=True, type=click.Path(file_okay=False),
              help="Backtest folder.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Base configuration.")
@click.option("--assumptions", type=click.Path(file_okay=False), help="Base parameter tables.")
@click.option("--max-concurrent", type=click.IntRange(min=1), help="Runs at once.")
@click.option("--dask", metavar="local|tcp://HOST:PORT", help="Run the replicates on Dask distributed.")
@click.option("--keep-runs", is_flag=True, help="Keep the replicate run databases.")
@fit_options
@click.option("--force", is_flag=True, help="Replace a non-empty output folder (completed runs are reused).")
@click.option("--json", "as_json", is_flag=True, help="Print the scorecard summary and paths as JSON.")
@click.pass_obj
def backtest(state, history, snapshots, holdout, replicates, first_seed, growth, parameter_uncertainty,
             compare_built_in, materiality, fail_on, out, config_path, assumptions, max_concurrent, dask, keep_runs,
             as_json, **kwargs):
    """Fit the early snapshots, simulate the held-out years as replicates, score the forecast."""
    from planwise_core.fit.backtest import BacktestOptions, backtest as run_backtest
    from planwise_core.fit.backtest.scorecard import headline_line

    if not history and not snapshots:
        raise click.UsageError("give a HISTORY folder or --snapshot DATE=FILE (at least three times)")
    opts = BacktestOptions(holdout=holdout, replicates=replicates, first_seed=first_seed, growth=growth,
                           parameter_uncertainty=parameter_uncertainty, compare_built_in=compare_built_in,
                           materiality=_materiality(materiality), fail_on=fail_on, max_concurrent=max_concurrent,
                           dask=dask, keep_runs=keep_runs)
    result = run_backtest(history, out, config=config_path or state.config_path, assumptions=assumptions,
                          options=options_from(kwargs), backtest_options=opts, snapshots=snapshots)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        click.echo(headline_line(result.summary))
        click.echo(f"scorecard: {result.scorecard}")
    if result.met_fail_on:
        raise SystemExit(3)
