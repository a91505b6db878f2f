"""The hiring profile (level shares, ages, salary ranges) and voluntary enrollment (docs/fit.md)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from planwise_core.fit import studies
from planwise_core.fit.collect import Collector, round6
from planwise_core.fit.credibility import z_binomial
from planwise_core.fit.intervals import quantile7, wilson

MILLION = 1_000_000
BIN_STARTS = tuple(range(15, 75, 5))   # [15, 20) ... [65, 70), [70, inf); ages under 15 go in the first


def largest_remainder(counts: dict) -> dict:
    """Shares in millionths summing to exactly 1,000,000 (ties to the lower key)."""
    total = sum(counts.values())
    exact = {k: c * MILLION / total for k, c in counts.items()}
    floors = {k: int(v) for k, v in exact.items()}
    left = MILLION - sum(floors.values())
    for k in sorted(counts, key=lambda k: (-(exact[k] - floors[k]), k))[:left]:
        floors[k] += 1
    return {k: Decimal(v) / MILLION for k, v in floors.items()}


def _bin(age: int) -> int:
    return max(b for b in BIN_STARTS if b <= max(age, 15))


def hiring_profile(ctx, out: Collector) -> None:
    rows = studies.hire_rows(ctx.history)
    levels = [r[0] for r in ctx.aset.tables["job_levels"].rows]
    if len(rows) < ctx.options.min_hires or any(r[1] is None for r in rows):
        out.warn("W-FEWHIRES", len(rows), f"{len(rows)} hires with a level (< {ctx.options.min_hires}): the hiring "
                 "profile keeps the base tables")
        return out.keep("job_levels.new_hire_share", None, "W-FEWHIRES")
    counts = {lvl: sum(1 for r in rows if r[1] == lvl) for lvl in levels}
    shares = largest_remainder(counts)
    for lvl in levels:
        low, high = wilson(counts[lvl], len(rows), ctx.options.ci_level)
        out.cell("new_hire_level", "level", lvl, "share", exposure=len(rows), events=counts[lvl],
                 crude_rate=counts[lvl] / len(rows), ci_low=low, ci_high=high,
                 published="job_levels.new_hire_share", published_value=float(shares[lvl]), basis="experience")
        out.change("job_levels", str(lvl), "new_hire_share", shares[lvl])
        salaries = sorted(float(r[3]) for r in rows if r[1] == lvl)
        if len(salaries) >= ctx.options.min_level_hires:
            centre = math.fsum(salaries) / len(salaries)
            half = (quantile7(salaries, 0.9) - quantile7(salaries, 0.1)) / 1.6
            out.change("job_levels", str(lvl), "hire_min_salary", _cents(max(0.01, centre - half)))
            out.change("job_levels", str(lvl), "hire_max_salary", _cents(centre + half))
        else:
            out.warn("W-FEWHIRES", len(salaries), f"level {lvl}: {len(salaries)} hires (< "
                     f"{ctx.options.min_level_hires}): its hiring salary range keeps the base values")
    out.publish("job_levels.new_hire_share", None, None, 1.0, "shares of the hires (not blended)")
    _ages(ctx, out, rows)


def _cents(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _ages(ctx, out: Collector, rows) -> None:
    bins: dict = {}
    for r in rows:
        bins.setdefault(_bin(r[2]), []).append(r[2])
    shares = largest_remainder({b: len(v) for b, v in bins.items()})
    ages = {}
    for b in sorted(bins):
        age = int((Decimal(sum(bins[b])) / len(bins[b])).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        ages[age] = shares[b]
        label = f"{b}-{b + 4}" if b < 70 else "70+"
        out.cell("new_hire_age", "age_bin", label, "share", exposure=len(rows), events=len(bins[b]),
                 crude_rate=len(bins[b]) / len(rows), published="new_hire_age_distribution.share",
                 published_value=float(shares[b]), basis="experience", note=f"age {age}")
    out.extra["new_hire_ages"] = ages


def _enrollment_by_year(ctx, out: Collector, voluntary: list[tuple]) -> None:
    """Participation at each study year's end and the voluntary-enrollment study by year (reported, not published)."""
    participation = {k: (n, p) for k, n, p in studies.participation_by_snapshot(ctx.history)}
    for k, persons, enrolled in voluntary:
        n, p = participation.get(k, (0, 0))
        out.year(k, participation=p / n if n else None, voluntary_persons=persons, voluntary_enrolled=enrolled)


def voluntary_enrollment(ctx, out: Collector) -> None:
    key = "enrollment.voluntary_enrollment.annual_probability"
    base = ctx.config.enrollment.voluntary_enrollment.annual_probability
    if not ctx.history.has_all("employee_deferral_rate"):
        return out.keep(key, base, "no employee_deferral_rate column in every snapshot")
    auto = ctx.config.enrollment.auto_enrollment
    if not auto.enabled:
        scope = "TRUE"
    elif auto.scope == "new_hires_only" and auto.hire_date_cutoff is not None:
        scope = f"l.hire < DATE '{auto.hire_date_cutoff.isoformat()}'"
    else:
        scope = "FALSE"
    elig = ctx.config.eligibility
    by_year = studies.voluntary_counts(ctx.history, elig.minimum_age, elig.waiting_period_days, scope)
    _enrollment_by_year(ctx, out, by_year)
    n, events = sum(r[1] for r in by_year), sum(r[2] for r in by_year)
    if n < 50:
        out.warn("W-NOVOLUNTARY", n, f"{n} eligible non-participants outside auto-enrollment (< 50): kept")
        return out.keep(key, base, "W-NOVOLUNTARY")
    p = events / n
    z = z_binomial(events, n, ctx.n_f)
    value = round6(z * p + (1 - z) * base)
    low, high = wilson(events, n, ctx.options.ci_level)
    out.cell("voluntary_enrollment", "overall", "all", "probability", exposure=n, events=events,
             observed_events=events, crude_rate=p, ci_low=low, ci_high=high, credibility=z, default_rate=base,
             fitted_rate=float(value), published=key, published_value=float(value),
             basis="experience" if z >= 1 else "base" if z <= 0 else "blended")
    out.publish(key, value, base, z)
    out.config[key] = float(value)
