"""Limited-fluctuation credibility: the full-credibility standard and the square-root rule (docs/fit.md)."""

from __future__ import annotations

import math

from planwise_core.fit.intervals import normal_quantile


def full_standard(p: float, k: float) -> float:
    """n_F = (Phi^-1((1 + p)/2) / k)^2 events: 1,082.22 for p = 0.90, k = 0.05."""
    return (normal_quantile((1 + p) / 2) / k) ** 2


def z_rule(n: float, standard: float) -> float:
    """Z = min(1, sqrt(n / standard)); a standard of 0 trusts the experience, an infinite one the base."""
    if standard == 0:
        return 1.0
    if math.isinf(standard) or n <= 0:
        return 0.0
    return min(1.0, math.sqrt(n / standard))


def z_poisson(events: float, n_f: float) -> float:
    return z_rule(events, n_f)


def z_binomial(events: float, persons: float, n_f: float) -> float:
    """Binomial standard n_F·(1 - p) events."""
    if persons <= 0:
        return 0.0
    p = events / persons
    if p >= 1:
        return 1.0 if events > 0 else 0.0
    return z_rule(events, n_f * (1 - p)) if not (n_f == 0 or math.isinf(n_f)) else z_rule(events, n_f)


def z_mean(n: int, sd: float, mean: float, n_f: float, floor: float = 0.005) -> float:
    """Credibility of a mean: standard n_F·CV^2 persons, CV = sd / max(|mean|, floor); needs n >= 2."""
    if n < 2:
        return 0.0 if n_f != 0 else 1.0
    if n_f == 0 or math.isinf(n_f):
        return z_rule(n, n_f)
    cv = sd / max(abs(mean), floor)
    standard = n_f * cv * cv
    return 1.0 if standard == 0 else min(1.0, math.sqrt(n / standard))
