"""Replicate parameter draws (docs/fit.md, "Backtest: replicate draws"): estimation error once per replicate,
process noise and between-year variance once per replicate and held-out year, from hashed uniforms."""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist

from planwise_core.fit.intervals import hire_year_share


def normal_draw(first_seed: int, r: int, parameter: str, year) -> float:
    """Phi^-1(u), u = the first 16 hex digits of sha256('backtest|first_seed|r|parameter|year')/2^64."""
    text = f"backtest|{first_seed}|{r}|{parameter}|{'-' if year is None else year}"
    u = int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) / 2 ** 64
    return NormalDist().inv_cdf(min(max(u, 1e-300), 1 - 2 ** -53))


def clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def between_year_variance(pairs: list[tuple[int, int]]) -> float:
    """tau^2 = max(0, variance of the yearly rates - mean of their sampling variances); 0 with one year."""
    rates = [(e / n, n) for e, n in pairs if n > 0]
    if len(rates) < 2:
        return 0.0
    mean = math.fsum(p for p, _ in rates) / len(rates)
    var = math.fsum((p - mean) ** 2 for p, _ in rates) / (len(rates) - 1)
    sampling = math.fsum(p * (1 - p) / n for p, n in rates) / len(rates)
    return max(0.0, var - sampling)


def replicate_parameters(ctx, r: int, first_seed: int, years: list[int], starts: dict, growth: dict,
                         uncertain: bool, arm: str) -> dict:
    """{'t': {year: v}, 'h': {year: v}, 'promotion': v, 'merit': {level: total raise}} for replicate r and arm."""
    est = 1.0 if arm == "fitted" and uncertain else 0.0
    proc = 1.0 if uncertain else 0.0
    out = {"t": {}, "h": {}, "merit": {}}
    q = ctx.quota
    t_hat = ctx.published("workforce.total_termination_rate") if arm == "fitted" else ctx.base_rate("t")
    se_t = math.sqrt(q["t_hat"] * (1 - q["t_hat"]) / q["n"])
    tau = between_year_variance([(y["leavers"], y["start_actives"]) for y in q["years"]])
    eps = normal_draw(first_seed, r, "t", None)
    for year in years:
        n = starts[year]
        pi2 = t_hat * (1 - t_hat) / n if n else 0.0
        value = t_hat + est * q["z"] * se_t * eps + proc * math.sqrt(pi2 + tau) * normal_draw(first_seed, r, "t", year)
        out["t"][year] = clip(value, 0.0, 1.0)
    h_hat = ctx.published("workforce.new_hire_termination_rate") if arm == "fitted" else ctx.base_rate("h")
    nh = ctx.new_hire
    se_h = nh.get("se", 0.0) if nh else 0.0  # the calendar-standardised share's standard error
    z_h = nh.get("z", 0.0) if nh else 0.0
    eps = normal_draw(first_seed, r, "h", None)
    for year in years:
        hires = starts[year] * (out["t"][year] + growth[year]) / (1 - h_hat) if h_hat < 1 else 0
        pi2 = h_hat * (1 - h_hat) / hires if hires > 0 else 0.0
        value = h_hat + est * z_h * se_h * eps + proc * math.sqrt(pi2) * normal_draw(first_seed, r, "h", year)
        out["h"][year] = clip(value, 0.0, 0.99)
    out["promotion"] = _promotion(ctx, r, first_seed, est, arm)
    out["merit"] = _merit(ctx, r, first_seed, est, arm)
    return out


def _promotion(ctx, r, first_seed, est, arm) -> float:
    base = ctx.promotion_base_rate if arm == "fitted" and ctx.promotion else ctx.base_promotion_rate
    if not ctx.promotion or not est:
        return base
    p, n = ctx.promotion["events"] / ctx.promotion["persons"], ctx.promotion["persons"]
    se = math.sqrt(p * (1 - p) / n) * base / p if p > 0 else 0.0  # relative error of the rate, on the base rate
    return clip(base + ctx.promotion["z"] * se * normal_draw(first_seed, r, "promotion", None), 0.0, 1.0)


def _merit(ctx, r, first_seed, est, arm) -> dict:
    out = {}
    for level, merit in sorted((ctx.merit_published if arm == "fitted" else ctx.base_merit).items()):
        info = ctx.merit_se.get(level) if arm == "fitted" else None
        draw = est * info["z"] * info["se"] * normal_draw(first_seed, r, f"merit.{level}", None) if info else 0.0
        out[level] = max(0.0, merit + draw)
    return out


def share_of(mu: float) -> float:
    return hire_year_share(mu)
