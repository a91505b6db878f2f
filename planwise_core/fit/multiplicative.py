"""Multiplicative rates: Poisson maximum likelihood by iterative proportional fitting, with retirement
attribution (EM), credibility blending toward the base table, the re-fit of fully credible bands and the
rescaling to the base table's average (docs/fit.md, "Experienced terminations").

A cell is one (age, tenure, level) combination: exposure E, observed events O, expected retirements R. The
model is H_c = lam·E_c·prod_d m_d[band_d(c)]; attributed events A_c = O_c·H_c/(H_c + R_c).
"""

from __future__ import annotations

import math

import attrs

from planwise_core.fit.options import FitError

DIMENSIONS = ("age_band", "tenure_band", "level")
TOLERANCE = 1e-10
MAX_SWEEPS = 10_000
BOUNDARY_CHECK = 1e-2  # a band's multiplier below this is tested for a maximum at 0 (see _boundary)


@attrs.define
class Cell:
    key: tuple            # (age band, tenure band, level) labels, one per dimension
    exposure: float
    observed: float
    retirements: float = 0.0
    attributed: float = 0.0
    detail: tuple = ()    # extra sort key (the single age of the retirement attribution)


@attrs.define
class Fit:
    multipliers: list[dict]   # one {band: m} per dimension
    lam: float
    sweeps: int


def hazards(cells: list[Cell], mult: list[dict], lam: float) -> list[float]:
    return [lam * c.exposure * mult[0][c.key[0]] * mult[1][c.key[1]] * mult[2][c.key[2]] for c in cells]


def band_sums(cells: list[Cell], values: list[float], dim: int) -> dict:
    sums: dict = {}
    for cell, value in zip(cells, values):
        sums.setdefault(cell.key[dim], []).append(value)
    return {band: math.fsum(v) for band, v in sums.items()}


def _attribute(cells: list[Cell], h: list[float]) -> list[float]:
    return [c.observed if c.retirements == 0 else (c.observed * hc / (hc + c.retirements) if hc > 0 else 0.0)
            for c, hc in zip(cells, h)]


def _gap(cells: list[Cell], a: list[float], h: list[float], free: list[set], total: bool) -> float:
    worst = abs(math.fsum(a) - math.fsum(h)) / max(math.fsum(a), 1.0) if total else 0.0
    for dim in range(len(DIMENSIONS)):
        sa, sh = band_sums(cells, a, dim), band_sums(cells, h, dim)
        for band in free[dim]:
            worst = max(worst, abs(sa[band] - sh[band]) / max(sa[band], 1.0))
    return worst


def sweep_fit(cells: list[Cell], mult: list[dict], lam: float, free: list[set], attribute: bool,
              what: str) -> Fit:
    """Sweep the free bands' multipliers and lam until every free band and the total match (1e-10)."""
    mult, free = [dict(m) for m in mult], [set(f) for f in free]
    frozen = [c.attributed for c in cells]
    total = attribute or _total_feasible(cells, free)
    for sweep in range(MAX_SWEEPS):
        if attribute:
            _boundary(cells, mult, lam, free)
        h = hazards(cells, mult, lam)
        a = _attribute(cells, h) if attribute else frozen
        if _gap(cells, a, h, free, total) < TOLERANCE:
            if attribute:
                for cell, value in zip(cells, a):
                    cell.attributed = value
            return Fit(mult, lam, sweep)
        for dim in range(len(DIMENSIONS)):
            sa, sh = band_sums(cells, a, dim), band_sums(cells, hazards(cells, mult, lam), dim)
            for band in sorted(free[dim]):
                if sh[band] > 0:
                    mult[dim][band] *= sa[band] / sh[band]
        total_h = math.fsum(hazards(cells, mult, lam))
        if total_h > 0 and total:
            lam *= math.fsum(a) / total_h
    raise FitError([f"{what}: the maximum-likelihood fit did not converge in {MAX_SWEEPS} sweeps"], "fit")


def _boundary(cells: list[Cell], mult: list[dict], lam: float, free: list[set]) -> None:
    """Set to 0 (and stop sweeping) a free band whose maximum likelihood is 0: its leavers are all explained by
    retirements. The band's log-likelihood, sum O_c·ln(m·w_c + R_c) - m·sum w_c, is concave in its multiplier m;
    its derivative at 0, sum O_c·w_c/R_c - sum w_c, not positive means the maximum is at 0. EM steps would only
    approach it geometrically (by the factor sum O_c·w_c/R_c / sum w_c per sweep, near 1 when the band's leavers
    are close to its retirements). Checked once the multiplier is already small, so other bands can settle."""
    for dim in range(len(DIMENSIONS)):
        for band in sorted(free[dim]):
            if mult[dim][band] > BOUNDARY_CHECK:
                continue
            inside = [c for c in cells if c.key[dim] == band]
            if any(c.observed > 0 and c.retirements == 0 for c in inside):
                continue
            w = [lam * c.exposure * math.prod(mult[d][c.key[d]] for d in range(len(DIMENSIONS)) if d != dim)
                 for c in inside]
            slope = math.fsum(c.observed * wc / c.retirements for c, wc in zip(inside, w) if c.observed > 0)
            if slope - math.fsum(w) <= 0:
                mult[dim][band] = 0.0
                free[dim].discard(band)


def _total_feasible(cells: list[Cell], free: list[set]) -> bool:
    """Whether the total can be matched too: not when the cells outside every free band have exposure but no
    events while some band is free (they would need a zero hazard; the total is then left unmatched)."""
    if not any(free):
        return True
    fixed = [c for c in cells if not any(c.key[d] in free[d] for d in range(len(DIMENSIONS)))]
    return not fixed or math.fsum(c.attributed for c in fixed) > 0 or math.fsum(c.exposure for c in fixed) == 0


def band_exposure(cells: list[Cell], dim: int) -> dict:
    return band_sums(cells, [c.exposure for c in cells], dim)


def weighted_mean(exposure: dict, mult: dict) -> float:
    total = math.fsum(exposure.values())
    return math.fsum(exposure[b] * mult[b] for b in sorted(exposure)) / total if total > 0 else 0.0


def fit_dimensions(cells: list[Cell], base: list[dict], z_of, attribute: bool, what: str) -> dict:
    """The whole estimator: ML (with attribution), blend by credibility, re-fit the credible bands, rescale.

    ``base``: one {band: base multiplier} per dimension (every band of the table in force); ``z_of(dim,
    band, attributed, exposure)``: the band's credibility. Returns ml, published multipliers, Z and lam.
    """
    free_all = [set(band_exposure(cells, d)) for d in range(len(DIMENSIONS))]
    start = [{b: 1.0 for b in base[d]} for d in range(len(DIMENSIONS))]
    observed = math.fsum(c.observed for c in cells)
    exposure = math.fsum(c.exposure for c in cells)
    ml = sweep_fit(cells, start, observed / exposure if exposure > 0 else 0.0, free_all, attribute, what)
    attributed = [c.attributed for c in cells]
    blended, z = [], []
    for dim in range(len(DIMENSIONS)):
        e_b, a_b = band_exposure(cells, dim), band_sums(cells, attributed, dim)
        ml_mean = weighted_mean(e_b, ml.multipliers[dim])
        scale = weighted_mean(e_b, base[dim]) / ml_mean if ml_mean > 0 else 0.0
        z_dim = {b: z_of(dim, b, a_b[b], e_b[b]) for b in sorted(e_b)}
        blended.append({b: (z_dim[b] * ml.multipliers[dim][b] * scale + (1 - z_dim[b]) * base[dim][b])
                        if b in e_b else base[dim][b] for b in base[dim]})
        z.append(z_dim)
    credible = [{b for b, zb in z[d].items() if zb >= 1.0} for d in range(len(DIMENSIONS))]
    refit = sweep_fit(cells, blended, ml.lam, credible, False, what)
    mult, lam = refit.multipliers, refit.lam
    for dim in range(len(DIMENSIONS)):
        e_b = band_exposure(cells, dim)
        now = weighted_mean(e_b, mult[dim])
        factor = weighted_mean(e_b, base[dim]) / now if now > 0 else 1.0
        mult[dim] = {b: m * factor for b, m in mult[dim].items()}
        lam /= factor
    return {"ml": ml, "published": mult, "z": z, "lam": lam, "sweeps": ml.sweeps + refit.sweeps}


def band_rates(cells: list[Cell], mult: list[dict], dim: int, lam: float | None = None) -> dict:
    """Each band's rate under ``mult``: lam·sum E_c·w_c / E_b, lam = sum A / sum E_c·w_c unless given."""
    w = hazards(cells, mult, 1.0)
    if lam is None:
        total = math.fsum(w)
        lam = math.fsum(c.attributed for c in cells) / total if total > 0 else 0.0
    e_b, w_b = band_exposure(cells, dim), band_sums(cells, w, dim)
    return {b: lam * w_b[b] / e_b[b] if e_b[b] > 0 else 0.0 for b in e_b}
