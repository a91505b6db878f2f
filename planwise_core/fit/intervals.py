"""Interval arithmetic of the fit, in pure Python (docs/fit.md, "Intervals").

Gamma quantiles come from the regularised incomplete gamma function and a bisection to 1e-13 relative, so the
exact Poisson (Garwood) bounds need no SciPy; Wilson bounds are closed forms.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-16


def normal_quantile(p: float) -> float:
    return NormalDist().inv_cdf(p)


def z_for(level: float) -> float:
    """The two-sided normal quantile of a ``level`` interval (1.959964 for 0.95)."""
    return normal_quantile(1 - (1 - level) / 2)


def gamma_p(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x): series below a + 1, Lentz continued fraction above."""
    if x <= 0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * _EPS:
            n += 1
            term *= x / n
            total += term
        return total * math.exp(log_front)
    return 1.0 - _gamma_q_fraction(a, x, log_front)


def _gamma_q_fraction(a: float, x: float, log_front: float) -> float:
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < _EPS:
            break
    return math.exp(log_front) * h


def gamma_quantile(p: float, a: float) -> float:
    """x with P(a, x) = p, by bisection to 1e-13 relative."""
    if a <= 0 or p <= 0:
        return 0.0
    low, high = 0.0, max(1.0, a)
    while gamma_p(a, high) < p:
        high *= 2
    while high - low > 1e-13 * high:
        mid = (low + high) / 2
        if gamma_p(a, mid) < p:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def garwood(events: float, exposure: float, level: float, share: float = 1.0) -> tuple[float, float]:
    """Exact Poisson interval of a central rate events / exposure, scaled by ``share`` (attributed / observed)."""
    if exposure <= 0:
        return (math.nan, math.nan)
    alpha = 1 - level
    low = gamma_quantile(alpha / 2, events) if events > 0 else 0.0
    high = gamma_quantile(1 - alpha / 2, events + 1)
    return (low / exposure * share, high / exposure * share)


def wilson(events: float, n: float, level: float) -> tuple[float, float]:
    """Wilson score interval of a probability events / n."""
    if n <= 0:
        return (math.nan, math.nan)
    z = z_for(level)
    p = events / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return (max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale))


def chi2_sf(stat: float, df: int) -> float:
    """Upper tail of the chi-square distribution (the homogeneity test's p-value)."""
    return 1.0 - gamma_p(df / 2, stat / 2) if df > 0 else 1.0


def hire_year_share(mu: float) -> float:
    """h(mu) = 1 - (1 - e^-mu)/mu: the share of uniformly spread hires leaving in their hire year at force mu."""
    if mu <= 0:
        return 0.0
    if mu < 1e-6:
        return mu / 2 - mu * mu / 6
    return 1 - (-math.expm1(-mu)) / mu


def hire_year_share_slope(mu: float) -> float:
    """h'(mu) = (1 - e^-mu - mu e^-mu) / mu^2."""
    if mu < 1e-6:
        return 0.5 - mu / 3
    return (-math.expm1(-mu) - mu * math.exp(-mu)) / (mu * mu)


def quantile7(sorted_values: list[float], p: float) -> float:
    """Type-7 quantile (linear interpolation at (n - 1)·p) of sorted values."""
    h = (len(sorted_values) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])
