"""`planwise backtest`: fit the early snapshots, forecast the held-out years, score the forecast (docs/fit.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import attrs

from planwise_core.fit.backtest.plan import BacktestOptions  # noqa: F401
from planwise_core.fit.options import FitOptions


@attrs.frozen
class BacktestResult:
    out: Path
    verdict: str
    summary: dict
    scorecard: Path
    met_fail_on: bool

    def to_dict(self) -> dict:
        return {"out": str(self.out), "verdict": self.verdict, "summary": self.summary,
                "scorecard": str(self.scorecard), "paths": {n: str(self.out / n) for n in (
                    "scorecard.csv", "scorecard.json", "scorecard.md", "scorecard.html", "actuals.csv", "fitted")}}


def backtest(history, out, *, config=None, assumptions=None, options: FitOptions = FitOptions(),
             backtest_options: BacktestOptions = BacktestOptions(), snapshots=()) -> BacktestResult:
    """Run the whole backtest into ``out``; FitError lists every problem before anything is written."""
    from planwise_core.fit.backtest import plan, scorecard
    from planwise_core.fit.backtest.scoring import summarize

    opts = backtest_options
    target, config, aset, pairs, fit_part, full, ctx, fit_result = plan.prepare(
        history, out, config, assumptions, options, opts, snapshots)
    try:
        n_fit = len(fit_part)
        g = ctx.published("simulation.target_growth_rate")
        years, starts, growth = plan.plan_years(full, n_fit, opts.growth, g)
        observable = {"level": full.has_all("level_id"), "deferral": full.has_all("employee_deferral_rate"),
                      "leaver_rows": any(s.info["terminated"] for s in full.snapshots[n_fit:])}
        bands = [(r[1], r[2], r[3]) for r in aset.tables["tenure_bands"].rows]
        runs, drawn = plan.run_replicates(ctx, opts, target, target / "fitted", years, starts, growth, config,
                                          fit_part[-1][1], fit_part[-1][0])
        simulated = plan.simulated_values(runs, years, full, n_fit, bands, observable)
        actuals = plan.actual_values(full, n_fit, years, bands, observable)
    finally:
        full.con.close()
    conditioned = {"headcount.total"} if opts.growth == "actual" else set()
    rows, not_observable = scorecard.score_all(actuals, simulated, opts.materiality, conditioned)
    summary = summarize(rows)
    roles = ["fit"] * (n_fit - 1) + ["start"] + ["holdout"] * opts.holdout
    payload = {"history": [dict(file=str(p), as_of_date=str(d), sha256=s.info["sha256"], role=role)
                           for (d, p), s, role in zip(pairs, full.snapshots, roles)],
               "options": {**opts.to_dict(), **options.to_dict()},
               "fitted": {"manifest_sha256": _sha(target / "fitted" / "fit_manifest.json")},
               "replicates": [{"name": k, "seed": opts.first_seed + int(k[-3:]) - 1, "drawn": v}
                              for k, v in sorted(drawn.items())],
               "summary": summary, "not_observable": not_observable, "conditioned": sorted(conditioned),
               "warnings": fit_result.warnings}
    scorecard.write_scorecard(target, payload, rows, actuals)
    if not opts.keep_runs:
        for run in runs:
            Path(run["database"]).unlink(missing_ok=True)
    met = {"never": False, "warn": summary["verdict"] in ("WARN", "FAIL"),
           "fail": summary["verdict"] == "FAIL"}[opts.fail_on]
    return BacktestResult(target, summary["verdict"], summary, target / "scorecard.md", met)


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


__all__ = ["BacktestOptions", "BacktestResult", "backtest", "shutil"]
