"""Promotions, merit, promotion raises, the hiring profile and voluntary enrollment (docs/fit.md)."""

from __future__ import annotations

import math
from decimal import Decimal

from planwise_core.fit import studies
from planwise_core.fit.collect import Collector, round6
from planwise_core.fit.credibility import z_binomial, z_mean
from planwise_core.fit.estimate import PROMO_COLUMN, publish_dimension, base_multipliers
from planwise_core.fit.intervals import wilson, z_for
from planwise_core.fit.multiplicative import fit_dimensions, hazards

COVERAGE = 0.95


def cola_for(ctx, year: int) -> float:
    rate = ctx.config.compensation.cola_rate
    if rate is None:
        rows = {r[0]: float(r[1]) for r in ctx.aset.tables["cola_by_year"].rows}
        return rows.get(year, 0.0)
    return rate.rate_for(year) if isinstance(rate, tuple) else rate


def promotions(ctx, out: Collector) -> None:
    promo = ctx.aset.tables["promotion_hazard"].rows[0]
    ctx.base_promotion_rate = float(promo[0])
    cells, info = studies.promotion_cells(ctx.history, ctx.orders, ctx.top_level)
    for k, count in studies.promotions_by_year(ctx.history):
        out.year(k, promotions=count)
    if info["multi"]:
        out.warn("W-MULTIPROMO", info["multi"], "stayers moved up two levels or more (one promotion each)")
    if info["demotions"]:
        out.warn("W-DEMOTION", info["demotions"], "stayers moved down a level (no promotion; not in merit)")
    if not info["stayers"] or info["with_levels"] / info["stayers"] < COVERAGE or not cells:
        out.warn("W-NOLEVEL", info["stayers"] - info["with_levels"], "level_id missing at one end for stayers")
        return out.keep("promotion_hazard.base_rate", ctx.base_promotion_rate, "W-NOLEVEL")
    base = base_multipliers(ctx.aset, PROMO_COLUMN)

    def z_of(dim, band, events, persons):
        return z_binomial(events, persons, ctx.n_f)

    fit = fit_dimensions(cells, base, z_of, False, "promotion")
    persons = math.fsum(c.exposure for c in cells)
    events = math.fsum(c.observed for c in cells)
    z_tot = z_binomial(events, persons, ctx.n_f)
    w_base = hazards(cells, base, 1.0)
    expected = math.fsum(c.exposure * min(1.0, ctx.base_promotion_rate * w / c.exposure if c.exposure else 0)
                         for c, w in zip(cells, w_base))
    total = z_tot * events + (1 - z_tot) * expected
    weight = math.fsum(hazards(cells, fit["published"], 1.0))
    rate = round6(total / weight) if weight > 0 else Decimal(str(ctx.base_promotion_rate))
    ctx.promotion_base_rate = float(rate)
    capped = [c for c, w in zip(cells, hazards(cells, fit["published"], 1.0))
              if c.exposure and float(rate) * w / c.exposure > 1]
    if capped:
        out.warn("W-PROBCAP", len(capped), "cells whose promotion probability exceeds 1 (everyone promoted)")
    for c in cells:
        out.exposure.append({"study": "promotion", "age_band": c.key[0], "tenure_band": c.key[1], "level_id": c.key[2],
                             "age": "", "exposure": c.exposure, "events": c.observed, "expected_retirements": 0.0,
                             "attributed_events": c.observed})
    for dim, name in enumerate(("age_band", "tenure_band", "level")):
        publish_dimension(ctx, out, cells, fit, base, dim, name, "promotion", PROMO_COLUMN)
    out.change("promotion_hazard", 0, "base_rate", rate)
    low, high = wilson(events, persons, ctx.options.ci_level)
    out.cell("promotion", "overall", "all", "probability", exposure=persons, events=events, observed_events=events,
             crude_rate=events / persons, ci_low=low, ci_high=high, credibility=z_tot,
             default_rate=expected / persons, fitted_rate=events / persons if z_tot >= 1 else total / persons,
             published="promotion_hazard.base_rate", published_value=float(rate),
             basis="experience" if z_tot >= 1 else "base" if z_tot <= 0 else "blended")
    out.publish("promotion_hazard.base_rate", rate, ctx.base_promotion_rate, z_tot)
    ctx.promotion = {"persons": persons, "events": events, "z": z_tot}


def merit_by_level(ctx, out: Collector) -> None:
    rows = studies.pay_rows(ctx.history, include_promoted=ctx.options.defect == "merit_promoted")
    base = {r[0]: float(r[4]) for r in ctx.aset.tables["job_levels"].rows}
    ctx.merit_published = dict(base)
    ctx.base_merit = dict(base)
    kept, breaks = {}, []
    for k, level, s0, s1, emp in rows:
        if not Decimal("0.5") <= s1 / s0 <= 2:
            breaks.append(emp)
            continue
        kept.setdefault(level, []).append((k, float(s0), float(s1)))
    if breaks:
        out.warn("W-PAYBREAK", len(breaks), "stayers whose pay ratio is outside [1/2, 2] (excluded)", breaks[:5])
    for level in sorted(base):
        _merit_level(ctx, out, level, kept.get(level, []), base[level])
        for k in sorted({p[0] for p in kept.get(level, [])}):  # fit_years.csv: the pay-weighted raise per year
            year = [p for p in kept[level] if p[0] == k]
            out.year(k, **{f"merit_{level}": math.fsum(p[2] - p[1] for p in year) / math.fsum(p[1] for p in year)})
    _tenure0(ctx, out)


def _merit_level(ctx, out, level, people, base_merit) -> None:
    key = f"job_levels.merit_rate[{level}]"
    n = len(people)
    if n < 2:
        out.change("job_levels", str(level), "merit_rate", round6(base_merit))
        return out.keep(key, base_merit, "fewer than 2 stayers at this level")
    s0 = math.fsum(p[1] for p in people)
    r_hat = math.fsum(p[2] - p[1] for p in people) / s0
    se = math.sqrt(n / (n - 1) * math.fsum(p[1] ** 2 * (p[2] / p[1] - 1 - r_hat) ** 2 for p in people)) / s0
    ratios = [p[2] / p[1] - 1 for p in people]
    mean = math.fsum(ratios) / n
    sd = math.sqrt(math.fsum((r - mean) ** 2 for r in ratios) / (n - 1))
    z = z_mean(n, sd, r_hat, ctx.n_f)
    cola = math.fsum(p[1] * cola_for(ctx, ctx.years[p[0]]) for p in people) / s0
    total = z * r_hat + (1 - z) * (base_merit + cola)
    merit = round6(max(0.0, total - cola))
    if total - cola < 0:
        out.warn("W-NEGMERIT", 1, f"level {level}: raise below COLA, merit floored at 0")
    ctx.merit_published[level] = float(merit)
    ctx.merit_se[level] = {"se": se, "z": z}
    half = z_for(ctx.options.ci_level) * se
    out.cell("merit_total", "level", level, "mean", exposure=n, events=n, crude_rate=r_hat, ci_low=r_hat - half,
             ci_high=r_hat + half, credibility=z, default_rate=base_merit + cola, fitted_rate=float(merit) + cola,
             published="job_levels.merit_rate", published_value=float(merit),
             basis="experience" if z >= 1 else "base" if z <= 0 else "blended", note=f"sd {sd:.6f}; COLA {cola:.6f}")
    out.change("job_levels", str(level), "merit_rate", merit)
    out.publish(key, merit, base_merit, z)


def _tenure0(ctx, out) -> None:
    rows = studies.tenure0_rows(ctx.history)
    if rows:
        raise_ = float(sum(r[1] for r in rows) / sum(r[0] for r in rows)) - 1
        out.extra["tenure0_raise"] = {"n": len(rows), "raise": raise_}
        if raise_ > 0.01:
            out.warn("W-T0RAISE", len(rows), f"stayers with tenure 0 got {raise_:.2%} on average (the simulator "
                     "gives none in the first full year)")


def promotion_raise(ctx, out: Collector) -> None:
    row = ctx.aset.tables["promotion_hazard"].rows[0]
    lo, hi = float(row[1]), float(row[2])
    people = [(float(s1) / float(s0)) / (1 + ctx.merit_total_for(level, ctx.years[k])) - 1
              for k, level, s0, s1, _ in studies.promoted_rows(ctx.history) if Decimal("0.5") <= s1 / s0 <= 2]
    n = len(people)
    if n < ctx.options.min_promotions or n == 0:
        out.keep("promotion_hazard.min_raise", lo, f"{n} promotions (< {ctx.options.min_promotions})")
        return out.keep("promotion_hazard.max_raise", hi, f"{n} promotions (< {ctx.options.min_promotions})")
    mean = math.fsum(people) / n
    sd = math.sqrt(math.fsum((p - mean) ** 2 for p in people) / (n - 1)) if n > 1 else 0.0
    z = z_mean(n, sd, mean, ctx.n_f)
    centre = z * mean + (1 - z) * (lo + hi) / 2
    width = z * math.sqrt(3) * sd + (1 - z) * (hi - lo) / 2
    new_lo, new_hi = round6(max(0.0, centre - width)), round6(min(1.0, centre + width))
    out.cell("promotion_raise", "overall", "all", "mean", exposure=n, events=n, crude_rate=mean, credibility=z,
             default_rate=(lo + hi) / 2, fitted_rate=centre, published="promotion_hazard.min_raise/max_raise",
             published_value=float(new_lo), note=f"sd {sd:.6f}; max_raise {new_hi}",
             basis="experience" if z >= 1 else "base" if z <= 0 else "blended")
    out.change("promotion_hazard", 0, "min_raise", new_lo)
    out.change("promotion_hazard", 0, "max_raise", new_hi)
    out.publish("promotion_hazard.min_raise", new_lo, lo, z)
    out.publish("promotion_hazard.max_raise", new_hi, hi, z)
