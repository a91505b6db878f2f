"""The backtest (docs/fit.md, "Backtest"): split the history, fit the early snapshots, simulate the held-out years
as replicates through the batch machinery, compute the metrics on both sides and score them."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import attrs
import yaml

from planwise_core.fit.backtest import draws, metrics
from planwise_core.fit.fitting import check_options, base_inputs, fit_pairs
from planwise_core.fit.history import check_dates, load_history, resolve_snapshots
from planwise_core.fit.options import FitError, FitOptions
from planwise_core.fit.write import check_out

ARMS = ("fitted", "built-in")


@attrs.frozen
class BacktestOptions:
    holdout: int = 1
    replicates: int = 20
    first_seed: int = 1
    growth: str = "actual"
    parameter_uncertainty: bool = True
    compare_built_in: bool = True
    materiality: dict = attrs.field(factory=dict)
    fail_on: str = "never"
    max_concurrent: int | None = None
    dask: str | None = None
    keep_runs: bool = False

    def to_dict(self) -> dict:
        return {k: v for k, v in attrs.asdict(self).items() if k not in ("max_concurrent", "dask")}


def split(history, snapshots, holdout: int):
    pairs = resolve_snapshots(history, snapshots)
    problems: list[str] = []
    check_dates([d for d, _ in pairs], problems, dec31=True, at_least=holdout + 2)
    if holdout < 1:
        problems.append(f"holdout {holdout}: at least 1 held-out snapshot")
    if problems:
        raise FitError(problems)
    return pairs, pairs[:len(pairs) - holdout]


def _actives(con, k: int) -> int:
    return con.execute("SELECT count(*) FROM snap WHERE k = ? AND (term IS NULL OR term > as_of)", [k]).fetchone()[0]


def plan_years(full, n_fit: int, growth_mode: str, fitted_growth: float) -> tuple[list[int], dict, dict]:
    """Held-out calendar years, their start actives N_Y and their growth rates."""
    dates = full.dates
    years = [d.year for d in dates[n_fit:]]
    starts, growth = {}, {}
    previous = _actives(full.con, n_fit - 1)
    for i, year in enumerate(years):
        k = n_fit + i
        if growth_mode == "actual":
            starts[year] = _actives(full.con, k - 1)
            growth[year] = round(_actives(full.con, k) / starts[year] - 1, 8)
        else:
            starts[year] = previous
            growth[year] = fitted_growth
            previous = round(previous * (1 + fitted_growth))
    return years, starts, growth


def _level_rows(tables: Path, merit: dict, cola: float) -> list[dict]:
    with open(tables / "job_levels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [dict(r, merit_rate=f"{merit.get(int(r['level_id']), float(r['merit_rate'])):.6f}") for r in rows]


def scenario(ctx, arm: str, r: int, params: dict, opts: BacktestOptions, years, growth, fitted: Path,
             census_date) -> dict:
    overrides = {"simulation.start_year": years[0], "simulation.end_year": years[-1],
                 "simulation.census_date": census_date.isoformat(),
                 "workforce.total_termination_rate": {y: round(v, 8) for y, v in params["t"].items()},
                 "workforce.new_hire_termination_rate": {y: round(v, 8) for y, v in params["h"].items()},
                 "simulation.target_growth_rate": {y: g for y, g in growth.items()}}
    from planwise_core.config.plan import first_irs_year

    if arm != "fitted" and years[0] < first_irs_year():
        overrides["plan.enabled"] = False  # as the fit's configuration does (W-PLANOFF): no IRS limits yet
    entry = {"name": f"{arm}-r{r:03d}", "seeds": [opts.first_seed + r - 1], "overrides": overrides}
    if arm == "fitted":
        entry["config"] = str((fitted / "config.yaml").resolve())
        promo = dict(zip(("base_rate", "min_raise", "max_raise", "effective_month", "effective_day"),
                         _row(fitted / "promotion_hazard.csv")))
        promo["base_rate"] = f"{params['promotion']:.6f}"
        entry["assumptions"] = {"folder": str(fitted.resolve()),
                                "job_levels": _level_rows(fitted, params["merit"], 0.0),
                                "promotion_hazard": [promo]}
    return entry


def _replicate_error(what: str, problems: list[str], out: Path):
    from planwise_core.errors import PlanwiseError

    shown = "\n".join(f"  - {p}" for p in problems[:5]) + (f"\n  ... and {len(problems) - 5} more"
                                                           if len(problems) > 5 else "")
    return PlanwiseError(f"Backtest replicate runs {what} (the fit is in {out / 'fitted'}; no scorecard was "
                         f"written):\n{shown}")


def _row(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))[1]


def run_replicates(ctx, opts: BacktestOptions, out: Path, fitted: Path, years, starts, growth, base_config, census,
                   census_date) -> tuple[list[dict], dict]:
    from planwise_core.batch import plan_scenarios, run_batch

    arms = ARMS if opts.compare_built_in else ARMS[:1]
    entries, drawn = [], {}
    for arm in arms:
        for r in range(1, opts.replicates + 1):
            params = draws.replicate_parameters(ctx, r, opts.first_seed, years, starts, growth,
                                                opts.parameter_uncertainty, arm)
            drawn[f"{arm}-r{r:03d}"] = params
            entries.append(scenario(ctx, arm, r, params, opts, years, growth, fitted, census_date))
    data = {"census": str(Path(census).resolve()), "scenarios": entries}
    (out / "scenarios.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    plan = plan_scenarios(data, out, source=str(out / "scenarios.yaml"), relative_to=out, base_config=base_config,
                          census=census)
    if plan.invalid:
        raise _replicate_error("refused", [f"{i.scenario}: {p}" for i in plan.invalid for p in i.problems], out)
    result = run_batch(plan, max_concurrent=opts.max_concurrent, dask=opts.dask, report=False)
    if result.failures:
        raise _replicate_error("failed", [f"{r['run_id']}: {r.get('error')}" for r in result.failures], out)
    return result.runs, drawn


def simulated_values(runs: list[dict], years, full, n_fit, tenure_bands, observable) -> dict:
    """{run name: {year: {metric: value}}} from each run's database."""
    import duckdb

    values = {}
    for run in sorted(runs, key=lambda r: r["scenario"]):
        con = duckdb.connect(str(run["database"]), read_only=True)
        try:
            values[run["scenario"]] = metrics.with_all({
                year: metrics.metric_values(con, metrics.simulated_people(year, years[0]), full.dates[n_fit + i - 1],
                                            full.dates[n_fit + i], tenure_bands, observable)
                for i, year in enumerate(years)})
        finally:
            con.close()
    return values


def actual_values(full, n_fit, years, tenure_bands, observable) -> dict:
    return metrics.with_all({year: metrics.metric_values(full.con, metrics.actual_people(full.con, n_fit + i - 1,
                                                                        full.dates[n_fit + i - 1],
                                                                        full.dates[n_fit + i]),
                                        full.dates[n_fit + i - 1], full.dates[n_fit + i], tenure_bands, observable)
            for i, year in enumerate(years)})


def prepare(history, out, config, assumptions, fit_options: FitOptions, opts: BacktestOptions, snapshots=()):
    """Validate everything, then fit the fit snapshots into out/fitted. Returns what the runs need."""
    target = check_out(out, fit_options.force)
    check_options(fit_options)
    config, aset = base_inputs(config, assumptions)
    pairs, fit_part = split(history, snapshots, opts.holdout)
    from planwise_core.census.capacity import capacity_for

    full = load_history(pairs, fit_options.on_invalid_rows, capacity_for(config, aset))
    if target.exists() and fit_options.force:
        for child in target.iterdir():  # completed replicate runs are kept: a re-run reuses them
            if child.name not in ("runs", "batch.duckdb", "batch.json"):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    target.mkdir(parents=True, exist_ok=True)
    ctx, fit_result = fit_pairs(fit_part, target / "fitted", config, aset, attrs.evolve(fit_options, force=True))
    return target, config, aset, pairs, fit_part, full, ctx, fit_result
