"""Scoring a forecast ensemble against what happened (docs/fit.md, "Backtest: scoring")."""

from __future__ import annotations

import math
import statistics


MATERIALITY = {"headcount": 0.02, "flows": 0.05, "pay": 0.01, "plan": 0.02}
HEADLINE = ("headcount.total", "flows.experienced_terminations", "flows.hires_active", "flows.promotions",
            "pay.payroll", "pay.continuing_increase", "plan.participation")


def crps(values: list[float], actual: float) -> float:
    """(1/R)·sum |x_r - a| - (1/(2R^2))·sum_r sum_s |x_r - x_s|, the ensemble CRPS."""
    r = len(values)
    spread = math.fsum(abs(x - y) for x in values for y in values)
    return math.fsum(abs(x - actual) for x in values) / r - spread / (2 * r * r)


def prediction_bound(sorted_values: list[float], p: float) -> float:
    """The value at order-statistic position p·(R + 1) (1-based, linear between neighbours, clamped to the
    extremes; Hyndman-Fan type 6, Excel's PERCENTILE.EXC). An outcome exchangeable with the R replicates falls
    below the j-th smallest with probability j/(R + 1), so [bound(0.1), bound(0.9)] covers it with probability
    0.80 whatever R (docs/fit.md, "Scoring and verdict"); type-7 positions would cover 0.8·(R - 1)/(R + 1)."""
    r = len(sorted_values)
    h = min(max(p * (r + 1), 1.0), float(r))
    lo = math.floor(h)
    hi = min(lo + 1, r)
    return sorted_values[lo - 1] + (h - lo) * (sorted_values[hi - 1] - sorted_values[lo - 1])


def score(values: list[float], actual: float, materiality: float) -> dict:
    xs = sorted(values)
    p10, p50, p90 = (prediction_bound(xs, p) for p in (0.1, 0.5, 0.9))
    error = p50 - actual
    inside = p10 <= actual <= p90
    value = crps(xs, actual)
    if inside or abs(error) <= materiality * abs(actual):
        status = "PASS"
    elif abs(actual - p50) <= (p90 - p10) or abs(error) <= 2 * materiality * abs(actual):
        status = "WARN"
    else:
        status = "FAIL"
    return {"p10": p10, "p50": p50, "p90": p90, "mean": statistics.fmean(xs), "min": xs[0], "max": xs[-1],
            "inside80": inside, "error": error, "pct_error": error / abs(actual) if actual else None,
            "crps": value, "rel_crps": value / abs(actual) if actual else None, "status": status}


def skill(fitted_crps: float, builtin_crps: float) -> float | None:
    return None if builtin_crps == 0 else 1 - fitted_crps / builtin_crps


def summarize(rows: list[dict]) -> dict:
    """Counts, coverage80, MAPE per family, mean rel_crps per arm, median skill, headline FAILs, verdict."""
    fitted = [r for r in rows if r["arm"] == "fitted" and not r["conditioned"]]
    counts = {s: sum(r["status"] == s for r in fitted) for s in ("PASS", "WARN", "FAIL")}
    coverage = sum(r["inside80"] for r in fitted) / len(fitted) if fitted else None
    mape = {}
    for family in MATERIALITY:
        errs = [abs(r["pct_error"]) for r in fitted if r["family"] == family and r["pct_error"] is not None]
        mape[family] = statistics.fmean(errs) if errs else None
    rel = {arm: _mean([r["rel_crps"] for r in rows if r["arm"] == arm and not r["conditioned"]])
           for arm in ("fitted", "built-in")}
    skills = [r["skill"] for r in fitted if r.get("skill") is not None]
    headline_fail = sorted({r["metric"] for r in fitted if r["metric"] in HEADLINE and r["status"] == "FAIL"})
    verdict, reasons = verdict_of(counts, coverage, len(fitted), headline_fail)
    return {"counts": counts, "scored": len(fitted), "coverage80": coverage, "mape": mape, "mean_rel_crps": rel,
            "median_skill": statistics.median(skills) if skills else None, "headline_fail": headline_fail,
            "verdict": verdict, "reasons": reasons}


def _mean(values: list) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def chance_fails(scored: int, rate: float = 0.01, level: float = 0.05) -> int:
    """The most FAIL metric-periods a calibrated forecast shows with probability >= ``level``: the largest k with
    P(Binomial(scored, rate) >= k) >= level (each is outside its 99 % band with probability ``rate``)."""
    k, tail = 0, 1.0  # tail = P(X >= k)
    while k < scored:
        tail -= math.comb(scored, k) * rate ** k * (1 - rate) ** (scored - k)
        if tail < level:
            return k
        k += 1
    return scored


def verdict_of(counts: dict, coverage: float | None, scored: int, headline_fail: list) -> tuple[str, list[str]]:
    fails, reasons = [], []
    if headline_fail:
        fails.append(f"headline metric(s) FAIL: {', '.join(headline_fail)}")
    if scored and counts["FAIL"] > 0.2 * scored:
        fails.append(f"{counts['FAIL']} of {scored} scored metric-periods FAIL (over 20 %)")
    if coverage is not None and scored >= 10 and coverage < 0.5:
        fails.append(f"coverage80 {coverage:.2f} < 0.50")
    if fails:
        return "FAIL", fails
    if counts["FAIL"] > chance_fails(scored):
        reasons.append(f"{counts['FAIL']} FAIL metric-periods (outside the 99 % band): more than the "
                       f"{chance_fails(scored)} a calibrated forecast shows in 95 % of backtests of {scored}")
    if coverage is not None and not 0.65 <= coverage <= 0.95:
        reasons.append(f"coverage80 {coverage:.2f} outside [0.65, 0.95]")
    if reasons:
        return "WARN", reasons
    # Misses are judged against chance, not one by one: a calibrated forecast puts one outcome in five outside its
    # 80 % interval and one in a hundred outside its 99 % band (docs/fit.md, "Scoring and verdict").
    if coverage is None:
        return "PASS", ["nothing scored"]
    return "PASS", [f"{counts['FAIL']} FAIL (chance allows {chance_fails(scored)}) and {counts['WARN']} WARN, "
                    f"coverage80 {coverage:.2f} in [0.65, 0.95]: as many misses as a calibrated forecast shows"]
