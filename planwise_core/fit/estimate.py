"""One function per published termination, hiring-survival and growth parameter (docs/fit.md, sections on
experienced terminations, the quota t, new-hire terminations and growth)."""

from __future__ import annotations

import math

from planwise_core.fit import studies
from planwise_core.fit.collect import Collector, round6
from planwise_core.fit.credibility import z_binomial, z_poisson
from planwise_core.fit.intervals import garwood, hire_year_share, wilson
from planwise_core.fit.multiplicative import (
    DIMENSIONS, band_exposure, band_rates, band_sums, fit_dimensions, hazards,
)

TABLE_OF = {"age_band": ("age_bands", 1), "tenure_band": ("tenure_bands", 1), "level": ("job_levels", 0)}
TERM_COLUMN, PROMO_COLUMN = "termination_multiplier", "promotion_multiplier"
VANISH_LIMIT = 0.05


def base_multipliers(aset, column: str) -> list[dict]:
    """{band label: base multiplier} per dimension, from the tables in force."""
    out = []
    for dim in DIMENSIONS:
        table, label_at = TABLE_OF[dim]
        spec = aset.tables[table].spec
        index = spec.column_names.index(column)
        out.append({str(row[label_at]): float(row[index]) for row in aset.tables[table].rows})
    return out


def termination_multipliers(ctx, out: Collector) -> None:
    cells = studies.termination_cells(ctx.history, ctx.orders, ctx.options.defect == "full_year")
    base = base_multipliers(ctx.aset, TERM_COLUMN)
    fit = fit_dimensions(cells, base, lambda d, b, a, e: z_poisson(a, ctx.n_f), True, "termination")
    for c in cells:
        out.exposure.append({"study": "termination", "age_band": c.key[0], "tenure_band": c.key[1],
                             "level_id": c.key[2], "age": c.detail[0] if c.detail[0] >= 0 else "",
                             "exposure": c.exposure, "events": c.observed, "expected_retirements": c.retirements,
                             "attributed_events": c.attributed})
    for dim, name in enumerate(DIMENSIONS):
        publish_dimension(ctx, out, cells, fit, base, dim, name, "termination", TERM_COLUMN)
    ctx.termination = {"cells": cells, "fit": fit}
    attributed = math.fsum(c.attributed for c in cells)
    observed = math.fsum(c.observed for c in cells)
    out.extra["retirements_attributed"] = observed - attributed
    _retirement_check(out, cells, fit, ctx.config.workforce.retirement.rate_multiplier)


def _retirement_check(out: Collector, cells, fit, multiplier: float) -> None:
    """W-RET: leavers at retirement ages against what the retirement table and the fitted hazard expect together."""
    old = [(c, h) for c, h in zip(cells, hazards(cells, fit["ml"].multipliers, fit["ml"].lam)) if c.detail[0] >= 0]
    expected = math.fsum(c.retirements + h for c, h in old)
    observed = math.fsum(c.observed for c, _ in old)
    if expected <= 0:
        return
    ratio = observed / expected
    out.extra["retirement_ae"] = {"observed": observed, "expected": expected, "ratio": ratio}
    if not 0.5 <= ratio <= 2:
        out.warn("W-RET", int(observed), f"leavers at retirement ages: {observed:.0f} observed against {expected:.1f} "
                 f"expected (A/E {ratio:.2f}); the retirement table is probably wrong for this employer: consider "
                 f"workforce.retirement.rate_multiplier {ratio * multiplier:.2f}")


def publish_dimension(ctx, out, cells, fit, base, dim, name, parameter, column) -> None:
    table, _ = TABLE_OF[name]
    e_b = band_exposure(cells, dim)
    a_b = band_sums(cells, [c.attributed for c in cells], dim)
    o_b = band_sums(cells, [c.observed for c in cells], dim)
    r_b = band_sums(cells, [c.retirements for c in cells], dim)
    fitted = band_rates(cells, fit["published"], dim, fit["lam"])
    default = band_rates(cells, base, dim)
    if parameter == "promotion":
        fitted = band_rates(cells, fit["published"], dim, ctx.promotion_base_rate)
        default = band_rates(cells, base, dim, ctx.base_promotion_rate)
    for band in base[dim]:
        value = round6(fit["published"][dim][band])
        out.change(table, band, column, value)
        if band not in e_b:
            continue
        z = fit["z"][dim][band]
        if parameter == "termination":
            share = a_b[band] / o_b[band] if o_b[band] > 0 else 1.0
            low, high = garwood(o_b[band], e_b[band], ctx.options.ci_level, share)
            kind = "central"
        else:
            low, high = wilson(a_b[band], e_b[band], ctx.options.ci_level)
            kind = "probability"
        crude = a_b[band] / e_b[band] if e_b[band] > 0 else 0.0
        note = ""
        if 0 < z < 1 and not low <= fitted[band] <= high:
            note = "W-BLEND-OUTSIDE"
            out.warn("W-BLEND-OUTSIDE", 1, f"{parameter} {name} {band}: fitted {fitted[band]:.6f} outside its "
                     f"experience interval [{low:.6f}, {high:.6f}]")
        out.cell(parameter, name, band, kind, exposure=e_b[band], events=a_b[band], observed_events=o_b[band],
                 expected_retirements=r_b[band] if parameter == "termination" else None, crude_rate=crude,
                 ci_low=low, ci_high=high, credibility=z, default_rate=default.get(band),
                 fitted_rate=fitted.get(band), published=f"{table}.{column}", published_value=float(value),
                 basis=("experience" if z >= 1 else "base" if z <= 0 else "blended"), note=note)
        out.published[f"{table}.{column}[{band}]"] = {"value": float(value), "base": base[dim][band],
                                                      "basis": out.cells[-1]["basis"], "credibility": z, "note": note}


def total_termination_rate(ctx, out: Collector) -> None:
    years = studies.quota_years(ctx.history)
    for y in years:
        out.year(y["k"], start_actives=y["start_actives"], leavers=y["leavers"], vanished=y["vanished"],
                 rehires=y["rehires"], retro=y["retro"], stayers=y["stayers"],
                 t=y["leavers"] / y["start_actives"] if y["start_actives"] else None)
    leavers = sum(y["leavers"] for y in years)
    start = sum(y["start_actives"] for y in years)
    t_hat = leavers / start
    z = z_binomial(leavers, start, ctx.n_f)
    base = ctx.config.workforce.total_termination_rate
    base = base.rate_for(ctx.config.simulation.start_year) if isinstance(base, tuple) else base
    value = round6(z * t_hat + (1 - z) * base)
    low, high = wilson(leavers, start, ctx.options.ci_level)
    out.cell("total_termination_rate", "overall", "all", "probability", exposure=start, events=leavers,
             observed_events=leavers, crude_rate=t_hat, ci_low=low, ci_high=high, credibility=z, default_rate=base,
             fitted_rate=float(value), published="workforce.total_termination_rate", published_value=float(value),
             basis="experience" if z >= 1 else "base" if z <= 0 else "blended")
    out.publish("workforce.total_termination_rate", value, base, z)
    out.config["workforce.total_termination_rate"] = float(value)
    for y in years:  # fit_years.csv: each year's leavers against the published (pooled) t
        out.year(y["k"], ae_t=y["leavers"] / (y["start_actives"] * float(value)) if y["start_actives"] and value
                 else None)
    ctx.quota = {"t_hat": t_hat, "z": z, "n": start, "leavers": leavers, "years": years}
    _trend(out, [(y["leavers"], y["start_actives"]) for y in years], "total_termination_rate")
    vanished = sum(y["vanished"] for y in years)
    ctx.vanish_share = vanished / leavers if leavers else 0.0


def _trend(out: Collector, pairs: list[tuple[int, int]], what: str) -> None:
    """Chi-square test of homogeneity of a yearly proportion across study years (W-TREND at p < 0.01)."""
    from planwise_core.fit.intervals import chi2_sf

    events, n = sum(e for e, _ in pairs), sum(m for _, m in pairs)
    if len(pairs) < 2 or n == 0 or events in (0, n):
        return
    p = events / n
    stat = math.fsum((e - m * p) ** 2 / (m * p * (1 - p)) for e, m in pairs if m > 0)
    pvalue = chi2_sf(stat, len(pairs) - 1)
    out.extra.setdefault("trend", {})[what] = {"chi2": stat, "p_value": pvalue}
    if pvalue < 0.01:
        out.warn("W-TREND", 1, f"{what} varies across study years beyond chance (chi-square {stat:.2f}, "
                 f"p = {pvalue:.4f})")


def new_hire_termination_rate(ctx, out: Collector) -> None:
    years = studies.hire_years(ctx.history)
    for y in years:
        out.year(y["k"], hires=y["hires"], hire_leavers=y["hire_leavers"])
    key = "workforce.new_hire_termination_rate"
    base = ctx.config.workforce.new_hire_termination_rate
    base = base.rate_for(ctx.config.simulation.start_year) if isinstance(base, tuple) else base
    if ctx.terminated_rows == 0:
        out.warn("W-NOTERMROWS", 1, "no snapshot holds rows of people who left during its year: hires who left "
                 "within the year are invisible; new_hire_termination_rate kept")
        return out.keep(key, base, "W-NOTERMROWS")
    if ctx.vanish_share > VANISH_LIMIT:
        return out.keep(key, base, f"W-VANISH: {ctx.vanish_share:.1%} of leavers vanished (over 5 %)")
    events = sum(y["hire_leavers"] for y in years)
    exposure = math.fsum(y["days"] / y["L"] for y in years)
    hires = sum(y["hires"] for y in years)
    if exposure <= 0:
        return out.keep(key, base, "no hires")
    mu = events / exposure
    low, high = garwood(events, exposure, ctx.options.ci_level)
    out.cell("new_hire_termination", "overall", "all", "central", exposure=exposure, events=events,
             observed_events=events, crude_rate=mu, ci_low=low, ci_high=high, credibility=z_poisson(events, ctx.n_f),
             note=f"force view: h(mu) = {hire_year_share(mu):.6f}; direct share {events / hires:.6f}")
    strata = calendar_strata(studies.hire_strata(ctx.history))
    h, se = calendar_share(strata)
    z = z_binomial(events, hires, ctx.n_f)
    value = round6(z * h + (1 - z) * base)
    half = _normal_quantile(ctx.options.ci_level) * se
    out.cell("new_hire_termination_rate", "overall", "all", "hire_year_share", exposure=hires, events=events,
             observed_events=events, crude_rate=h, ci_low=max(0.0, h - half), ci_high=min(1.0, h + half),
             credibility=z, default_rate=base, fitted_rate=float(value), published=key,
             published_value=float(value), basis="experience" if z >= 1 else "base" if z <= 0 else "blended",
             note="hire-year shares of the twelfths of the year, averaged with equal weights")
    out.publish(key, value, base, z)
    out.config[key] = float(value)
    mean_day = math.fsum(y["hire_day_sum"] for y in years) / hires if hires else None
    ctx.new_hire = {"mu": mu, "events": events, "exposure": exposure, "z": z, "h": h, "se": se, "hires": hires}
    out.extra["hire_calendar"] = {"hires": hires, "direct_share": events / hires if hires else None,
                                  "mean_hire_day": mean_day, "standardized_share": h,
                                  "force_share": hire_year_share(mu),
                                  "strata": strata}


def calendar_strata(rows: list[tuple]) -> list[dict]:
    """Twelve equal slices of the study year, weight 1/12 each (the simulator's uniform hiring calendar); a slice
    without hires hands its weight to the next slice with hires (the last ones to the previous)."""
    counts = {int(s): (n, o) for s, n, o in rows}
    strata, pending = [], 0
    for s in range(12):
        n, o = counts.get(s, (0, 0))
        if n == 0:
            pending += 1
            continue
        strata.append({"slice": s + 1, "hires": n, "leavers": o, "twelfths": 1 + pending})
        pending = 0
    if strata and pending:
        strata[-1]["twelfths"] += pending
    return strata


def calendar_share(strata: list[dict]) -> tuple[float, float]:
    """h = sum w_s·O_s/n_s and its standard error sqrt(sum w_s²·p_s(1 - p_s)/n_s), w_s = twelfths/12."""
    h = math.fsum(st["twelfths"] / 12 * st["leavers"] / st["hires"] for st in strata)
    var = math.fsum((st["twelfths"] / 12) ** 2 * (st["leavers"] / st["hires"]) * (1 - st["leavers"] / st["hires"])
                    / st["hires"] for st in strata)
    return h, math.sqrt(var)


def _normal_quantile(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def growth(ctx, out: Collector) -> None:
    actives = studies.actives_by_snapshot(ctx.history)
    k_years = len(actives) - 1
    for k in range(1, len(actives)):
        out.year(k, actives_end=actives[k], growth=actives[k] / actives[k - 1] - 1)
    g = (actives[-1] / actives[0]) ** (1 / k_years) - 1
    value = round6(max(-0.999999, min(1.0, g)))
    base = ctx.config.simulation.target_growth_rate
    out.cell("growth", "overall", "all", "probability", exposure=actives[0], events=actives[-1], crude_rate=g,
             published="simulation.target_growth_rate", published_value=float(value), basis="experience",
             note="a plan input")
    out.publish("simulation.target_growth_rate", value, base if not isinstance(base, tuple) else None, 1.0,
                "a plan input: the employer's headcount plan, not behaviour")
    out.config["simulation.target_growth_rate"] = float(value)
    out.warn("W-GROWTH", 1, f"growth {float(value):.6f} per year is history, not a plan: set "
             "simulation.target_growth_rate to the employer's headcount plan")
