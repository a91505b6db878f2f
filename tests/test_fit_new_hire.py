"""The new-hire termination rate h (docs/fit.md, "New-hire terminations"): the hire-year share standardised to a
uniform hiring calendar, by hand on a small history, and on large samples of the two processes it must serve: the
simulator's (a share h of every hire leaves, whatever the hire date) and a constant force with seasonal hiring."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from helpers.histories import cells, read_csv, write_snapshot
from planwise_core.fit import FitOptions, fit_history
from planwise_core.fit.estimate import calendar_share, calendar_strata

D0, D1 = date(2023, 12, 31), date(2024, 12, 31)


def _hire(pid: str, hired: str, left: str | None = None) -> dict:
    return {"id": pid, "birth": "1990-03-03", "hire": hired, "term": left, "pay": "60000.00", "level": 1}


def test_a_hand_made_history(tmp_path):
    start = [_hire(f"S{i}", "2015-01-01") for i in range(20)]
    # 8 January hires (slice 1 of 12), 2 leave; 12 October hires (slice 10), 6 leave; no other slice has hires.
    january = [_hire(f"J{i}", "2024-01-15", "2024-03-01" if i < 2 else None) for i in range(8)]
    october = [_hire(f"O{i}", "2024-10-15", "2024-12-01" if i < 6 else None) for i in range(12)]
    write_snapshot(tmp_path / "h", D0, start)
    enrolled = [dict(r, deferral="0.05") if i < 5 else r for i, r in enumerate(start)]
    write_snapshot(tmp_path / "h", D1, enrolled + january + october)
    fit_history(tmp_path / "h", tmp_path / "fit", options=FitOptions(full_credibility=0.0))
    row = cells(tmp_path / "fit", "new_hire_termination_rate")["all"]
    # January keeps its twelfth; slices 2-9 have no hires and hand theirs to October, and so do slices 11-12:
    # h = 1/12 x 2/8 + 11/12 x 6/12 = 0.479167 (the direct share 8/20 = 0.4 over-weights the January hires).
    h = 1 / 12 * 2 / 8 + 11 / 12 * 6 / 12
    se = math.sqrt((1 / 12) ** 2 * 0.25 * 0.75 / 8 + (11 / 12) ** 2 * 0.5 * 0.5 / 12)
    assert float(row["crude_rate"]) == pytest.approx(h, abs=1e-8)
    assert float(row["ci_high"]) - float(row["crude_rate"]) == pytest.approx(1.959964 * se, abs=1e-6)
    assert float(row["published_value"]) == round(h, 6)
    report = (tmp_path / "fit" / "fit_report.md").read_text()
    assert "| 1 | 8 | 2 | 0.250000 | 1/12 |" in report and "| 10 | 12 | 6 | 0.500000 | 11/12 |" in report
    assert "| 10 |" in (tmp_path / "fit" / "fit_report.html").read_text().split('id="hire-calendar"')[1].replace(
        "<tr><td>", "| ").replace("</td><td>", " | ")
    # Enrollment by year: 5 of the 32 actives at the end participate; the 20 start actives hired in 2015 (before
    # auto-enrollment's 2024-01-01 cutoff, aged 33, deferral 0) are the voluntary study, 5 of them enrolled.
    year = read_csv(tmp_path / "fit" / "cells" / "fit_years.csv")[0]
    assert (float(year["participation"]), year["voluntary_persons"], year["voluntary_enrolled"]) == (5 / 32, "20", "5")


def _strata(hires: list[tuple[float, bool]]) -> list[dict]:
    """hires: (hire time as a fraction of the year, left in the year) -> the fit's strata."""
    counts: dict = {}
    for t, left in hires:
        n, o = counts.get(int(t * 12), (0, 0))
        counts[int(t * 12)] = (n + 1, o + left)
    return calendar_strata([(s, n, o) for s, (n, o) in sorted(counts.items())])


def _seasonal_times(rng: random.Random, count: int) -> list[float]:
    """70 % of the hires in the last quarter, the rest spread over the first nine months."""
    return [0.75 + 0.25 * rng.random() if rng.random() < 0.7 else 0.75 * rng.random() for _ in range(count)]


def test_the_simulators_process_is_read_without_bias():
    # The simulator makes a share h = 0.25 of all hires leave, whatever the hire date: each slice's share is 0.25.
    rng = random.Random(26)
    hires = [(t, rng.random() < 0.25) for t in _seasonal_times(rng, 20000)]
    h, se = calendar_share(_strata(hires))
    assert abs(h - 0.25) < 4 * se
    # The force view (events over exposure from hire to leaving or year end, converted under uniform hiring) does
    # not fit this process: the same hires, leaving uniformly between hire and year end, read far from 0.25.
    left = [(t, t + rng.random() * (1 - t)) for t, gone in hires if gone]
    exposure = sum(x - t for t, x in left) + sum(1 - t for t, gone in hires if not gone)
    mu = len(left) / exposure
    assert 1 - (1 - math.exp(-mu)) / mu > 0.25 + 10 * se


def test_a_constant_force_with_seasonal_hiring_gives_the_uniform_calendar_share():
    # A real employer: force 0.40 from the hire date; 70 % hired in the autumn. Under the simulator's uniform
    # hiring the same force leaves h(0.40) = 1 - (1 - e^-0.4)/0.4 of the hires in their hire year.
    rng = random.Random(27)
    hires = [(t, rng.expovariate(0.40) < 1 - t) for t in _seasonal_times(rng, 40000)]
    h, se = calendar_share(_strata(hires))
    target = 1 - (1 - math.exp(-0.4)) / 0.4
    assert abs(h - target) < 4 * se + 0.002  # + the within-slice calendar (uniform here) rounding
    direct = sum(gone for _, gone in hires) / len(hires)
    assert direct < target - 10 * se  # the direct share is biased low by the autumn hiring


def test_empty_slices_hand_their_weight_on():
    strata = calendar_strata([(2, 5, 1), (7, 4, 2)])
    assert [(s["slice"], s["twelfths"]) for s in strata] == [(3, 3), (8, 9)]
    assert calendar_share(strata)[0] == pytest.approx(3 / 12 * 1 / 5 + 9 / 12 * 2 / 4)
    assert calendar_strata([]) == []
