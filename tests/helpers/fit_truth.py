"""Truth recovery (docs/fit.md, "Synthetic histories"): the true rate of every credible band of a synthetic
history against the fit's interval. Expected values come from truth.json and the fit's exposure, not the fit."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.histories import read_csv

DIMS = (("age_band", "age_band"), ("tenure_band", "tenure_band"), ("level", "level_id"))
MIN_EVENTS = 10  # a band with fewer attributed events is not credible enough to test


def true_termination_rates(out: Path, truth: dict) -> dict:
    m = truth["termination_multiplier"]
    cells = [r for r in read_csv(out / "cells" / "fit_exposure.csv") if r["study"] == "termination"]
    rates = {}
    for dim, column in DIMS:
        acc: dict = {}
        for r in cells:
            force = truth["hazard"] * m["age_band"][r["age_band"]] * m["tenure_band"][r["tenure_band"]] \
                * m["level"][r["level_id"]]
            entry = acc.setdefault(r[column], [0.0, 0.0])
            entry[0] += float(r["exposure"]) * force
            entry[1] += float(r["exposure"])
        rates.update({(dim, band): ef / e for band, (ef, e) in acc.items() if e > 0})
    return rates


def recovery_misses(out: Path, history: Path) -> tuple[list, int]:
    """(bands whose true rate falls outside the fit's interval, bands checked)."""
    truth = json.loads((history / "truth.json").read_text())
    cells = {(r["parameter"], r["dimension"], r["cell"]): r for r in read_csv(out / "cells" / "fit_cells.csv")}
    misses, checked = [], 0
    for (dim, band), rate in true_termination_rates(out, truth).items():
        row = cells[("termination", dim, band)]
        if float(row["events"]) < MIN_EVENTS:
            continue
        checked += 1
        if not float(row["ci_low"]) <= rate <= float(row["ci_high"]):
            misses.append((dim, band, rate, row["ci_low"], row["ci_high"]))
    h = cells.get(("new_hire_termination_rate", "overall", "all"))
    if h is not None:
        checked += 1
        if not float(h["ci_low"]) <= truth["new_hire_termination_rate"] <= float(h["ci_high"]):
            misses.append(("h", "all", truth["new_hire_termination_rate"], h["ci_low"], h["ci_high"]))
    for level, merit in truth["merit_rate"].items():
        row = cells[("merit_total", "level", level)]
        checked += 1
        if not float(row["ci_low"]) - 1e-8 <= merit + truth["cola"] <= float(row["ci_high"]) + 1e-8:
            misses.append(("merit", level, merit + truth["cola"], row["ci_low"], row["ci_high"]))
    return misses, checked
