"""fit_history: read the history, run every estimator, write the fit folder (docs/fit.md)."""

from __future__ import annotations

import math
from pathlib import Path

import attrs

from planwise_core.assumptions import load_assumptions, resolve_assumptions
from planwise_core.census.capacity import capacity_for
from planwise_core.config import PlanwiseConfig, default_config
from planwise_core.fit import estimate, hiring, linking, pay, studies
from planwise_core.fit.collect import Collector
from planwise_core.fit.history import History, load_history, resolve_snapshots
from planwise_core.fit.options import FitError, FitOptions, FitResult


@attrs.define
class FitContext:
    history: History
    config: PlanwiseConfig
    aset: object
    options: FitOptions
    n_f: float
    orders: dict = attrs.field(factory=dict)
    years: dict = attrs.field(factory=dict)          # study year k -> calendar year of D_k
    top_level: int = 0
    last_year: int = 0
    terminated_rows: int = 0
    vanish_share: float = 0.0
    base_promotion_rate: float = 0.0
    promotion_base_rate: float = 0.0
    merit_published: dict = attrs.field(factory=dict)
    merit_se: dict = attrs.field(factory=dict)       # level -> {se, z} of the merit total raise
    base_merit: dict = attrs.field(factory=dict)
    published_values: dict = attrs.field(factory=dict)
    termination: dict = attrs.field(factory=dict)
    quota: dict = attrs.field(factory=dict)
    new_hire: dict = attrs.field(factory=dict)
    promotion: dict = attrs.field(factory=dict)

    def merit_total_for(self, level: int, year: int) -> float:
        return self.merit_published.get(level, 0.0) + pay.cola_for(self, year)

    def published(self, key: str) -> float:
        return float(self.published_values[key]["value"])

    def base_rate(self, which: str) -> float:
        rate = {"t": self.config.workforce.total_termination_rate,
                "h": self.config.workforce.new_hire_termination_rate}[which]
        return rate.rate_for(self.config.simulation.start_year) if isinstance(rate, tuple) else rate


ESTIMATORS = (estimate.termination_multipliers, estimate.total_termination_rate, estimate.new_hire_termination_rate,
              pay.promotions, pay.merit_by_level, pay.promotion_raise, hiring.hiring_profile,
              hiring.voluntary_enrollment, estimate.growth)


def base_inputs(config=None, assumptions=None):
    """The base configuration (a PlanwiseConfig, a YAML path or None: built-in) and its tables in force."""
    if config is None or isinstance(config, (str, Path)):
        config = default_config(config)
    if assumptions is not None:
        config = config.with_overrides("assumptions", assumptions=str(Path(assumptions).resolve()))
    return config, resolve_assumptions(config)


def estimate_history(history: History, config, aset, options: FitOptions) -> tuple[FitContext, Collector]:
    """Every estimator on a loaded history; returns the context and what was collected."""
    con = history.con
    load_assumptions(con, aset)
    linking.build_links(history, config.workforce.retirement.rate_multiplier, config.workforce.retirement.enabled)
    empty = [k for k, n in con.execute("SELECT y.k, count(l.k) FILTER (WHERE l.outcome <> 'retro') FROM years y "
                                       "LEFT JOIN link l ON l.k = y.k GROUP BY y.k ORDER BY y.k").fetchall() if n == 0]
    if empty:
        raise FitError([f"study year {k} ({history.dates[k - 1]} to {history.dates[k]}) has no start active"
                        for k in empty])
    ctx = FitContext(history, config, aset, options, options.standard())
    ctx.orders = studies.band_orders(con)
    ctx.years = {k: history.dates[k].year for k in range(1, len(history.dates))}
    ctx.top_level = max(r[0] for r in aset.tables["job_levels"].rows)
    ctx.last_year = history.dates[-1].year
    ctx.terminated_rows = linking.terminated_rows(history)
    out = Collector(options.ci_level, ctx.n_f)
    for found in linking.data_quality(history):
        out.warn(found["code"], found["count"], found["message"], found["ids"])
    for estimator in ESTIMATORS:
        estimator(ctx, out)
    ctx.published_values = out.published
    return ctx, out


def fit_history(history, out, *, config=None, assumptions=None, options: FitOptions = FitOptions(),
                snapshots=()) -> FitResult:
    """Fit the parameter tables and rates on a history folder (or ``snapshots``: (date, file) pairs) into ``out``.

    Raises FitError (every problem listed) before anything is written.
    """
    check_options(options)
    config, aset = base_inputs(config, assumptions)
    return fit_pairs(resolve_snapshots(history, snapshots), out, config, aset, options)[1]


def fit_pairs(pairs, out, config, aset, options: FitOptions) -> tuple[FitContext, FitResult]:
    """The fit of already resolved (date, file) pairs; the context is kept for the backtest's draws."""
    from planwise_core.fit.write import check_out, write_fit

    target = check_out(out, options.force)
    loaded = load_history(pairs, options.on_invalid_rows, capacity_for(config, aset))
    try:
        ctx, collected = estimate_history(loaded, config, aset, options)
        return ctx, write_fit(target, ctx, collected)
    finally:
        loaded.con.close()


def check_options(options: FitOptions) -> None:
    problems = []
    if not 0 < options.ci_level < 1:
        problems.append(f"ci_level {options.ci_level}: must be between 0 and 1")
    if not 0 < options.credibility_p < 1 or options.credibility_k <= 0:
        problems.append("credibility_p must be in (0, 1) and credibility_k positive")
    n_f = options.full_credibility
    if n_f is not None and (math.isnan(n_f) or n_f < 0):
        problems.append(f"full_credibility {n_f}: must be 0, a positive number or inf")
    if problems:
        raise FitError(problems, "options")
