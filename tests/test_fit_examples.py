"""The worked examples of docs/fit.md, number for number (examples 1, 2 and 4), and the interval arithmetic
against SciPy (invariant 10)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from helpers.histories import cells, read_csv, write_snapshot
from planwise_core.fit import FitOptions, fit_history
from planwise_core.fit.credibility import full_standard
from planwise_core.fit.intervals import garwood, gamma_quantile, hire_year_share, wilson

D0, D1 = date(2023, 12, 31), date(2024, 12, 31)
# Example 1: tenure band -> (hire date, start actives, leaving days of each leaver)
BANDS = {
    "<2": (date(2023, 1, 1), 800, [180] * 220),
    "2-4": (date(2020, 6, 30), 250, [75, 183, 305] + [188] * 26 + [179]),
    "5-9": (date(2016, 6, 30), 1200, [187] * 60 + [188] * 60),
    "10-19": (date(2010, 6, 30), 1100, [198] * 40 + [199] * 20),
    "20+": (date(1995, 6, 30), 650, [200] * 20),
}
EXPECTED_1 = {  # band: crude, ci_low, ci_high, Z, published, fitted, default
    "<2": (0.319676, 0.278826, 0.364826, 0.450873, 1.797608, 0.314511, 0.314929),
    "2-4": (0.127452, 0.085991, 0.181946, 0.166496, 0.616374, 0.107841, 0.104976),
    "5-9": (0.105127, 0.087161, 0.125706, 0.332992, 0.529280, 0.092603, 0.087480),
    "10-19": (0.055943, 0.042691, 0.072010, 0.235461, 0.378028, 0.066140, 0.069984),
    "20+": (0.031205, 0.019061, 0.048193, 0.135943, 0.281175, 0.049195, 0.052488),
}


def example_1_history(folder):
    start, end = [], []
    for band, (hire, n, days) in BANDS.items():
        for i in range(n):
            row = {"id": f"{band}-{i:04d}", "birth": "1974-06-30", "hire": hire.isoformat(), "pay": "50000.00",
                   "level": 1}
            start.append(row)
            end.append(dict(row, term=(D0 + timedelta(days=days[i])).isoformat()) if i < len(days) else row)
    write_snapshot(folder, D0, start)
    write_snapshot(folder, D1, end)
    return folder


@pytest.fixture(scope="module")
def example_1(tmp_path_factory):
    base = tmp_path_factory.mktemp("example1")
    fit_history(example_1_history(base / "history"), base / "fit")
    return base / "fit"


def test_example_1_tenure_bands_number_for_number(example_1):
    got = cells(example_1, "termination", "tenure_band")
    for band, (crude, low, high, z, published, fitted, default) in EXPECTED_1.items():
        row = got[band]
        assert float(row["crude_rate"]) == pytest.approx(crude, abs=5e-7), band
        assert float(row["ci_low"]) == pytest.approx(low, abs=5e-7), band
        assert float(row["ci_high"]) == pytest.approx(high, abs=5e-7), band
        assert float(row["credibility"]) == pytest.approx(z, abs=5e-7), band
        assert float(row["published_value"]) == published, band
        assert float(row["fitted_rate"]) == pytest.approx(fitted, abs=5e-7), band
        assert float(row["default_rate"]) == pytest.approx(default, abs=5e-7), band
    assert float(got["2-4"]["exposure"]) == pytest.approx(220 + 5630 / 366, abs=1e-6)
    assert "W-BLEND-OUTSIDE" in got["20+"]["note"] and got["2-4"]["note"] == ""


def test_example_1_single_band_dimensions_and_quota(example_1):
    tables = {r["age_band"]: r for r in read_csv(example_1 / "age_bands.csv")}
    assert tables["45-54"]["termination_multiplier"] == "1.6"  # one band: the base value, verbatim
    levels = {r["level_id"]: r for r in read_csv(example_1 / "job_levels.csv")}
    assert levels["1"]["termination_multiplier"] == "1"
    quota = cells(example_1, "total_termination_rate")["all"]
    assert float(quota["crude_rate"]) == 0.1125
    assert (round(float(quota["ci_low"]), 6), round(float(quota["ci_high"]), 6)) == (0.103077, 0.122666)
    assert float(quota["credibility"]) == pytest.approx(0.684486, abs=5e-7)
    assert float(quota["published_value"]) == 0.114866


def test_example_2_merit_with_a_promotion_separated_out(tmp_path):
    people = [("A", 2, 2, "85000.00", "88400.00"), ("B", 2, 2, "92500.00", "95737.50"),
              ("C", 2, 2, "101000.00", "104030.00"), ("D", 2, 2, "110000.00", "113850.00"),
              ("E", 2, 2, "96000.00", "96000.00"), ("F", 1, 2, "72000.00", "81500.00")]
    row = {"birth": "1980-03-01", "hire": "2015-03-01"}
    write_snapshot(tmp_path / "h", D0, [dict(row, id=p, level=l0, pay=s0) for p, l0, _, s0, _ in people])
    write_snapshot(tmp_path / "h", D1, [dict(row, id=p, level=l1, pay=s1) for p, _, l1, _, s1 in people])
    fit_history(tmp_path / "h", tmp_path / "fit", options=FitOptions(min_promotions=1))
    merit = cells(tmp_path / "fit", "merit_total", "level")["2"]
    assert float(merit["crude_rate"]) == pytest.approx(13517.5 / 484500, abs=5e-9)
    assert (round(float(merit["ci_low"]), 6), round(float(merit["ci_high"]), 6)) == (0.014094, 0.041706)
    assert float(merit["credibility"]) == pytest.approx(0.118179, abs=5e-7)
    assert float(merit["published_value"]) == 0.029161
    levels = {r["level_id"]: r for r in read_csv(tmp_path / "fit" / "job_levels.csv")}
    assert levels["2"]["merit_rate"] == "0.029161"
    raise_ = cells(tmp_path / "fit", "promotion_raise")["all"]
    assert float(raise_["crude_rate"]) == pytest.approx(81500 / 72000 / 1.034161 - 1, abs=5e-9)
    assert round(float(raise_["crude_rate"]), 6) == 0.094553
    hazard = read_csv(tmp_path / "fit" / "promotion_hazard.csv")[0]
    assert (hazard["min_raise"], hazard["max_raise"]) == ("0.08", "0.15")  # one promotion: Z = 0, the base range


def test_example_4_new_hire_force_to_hire_year_share():
    mu = 1032 / 2623.464077
    low, high = garwood(1032, 2623.464077, 0.95)
    z = min(1.0, math.sqrt(1032 / full_standard(0.90, 0.05)))
    assert (round(mu, 6), round(low, 6), round(high, 6)) == (0.393373, 0.369736, 0.418125)
    assert [round(hire_year_share(v), 6) for v in (mu, low, high)] == [0.173245, 0.164043, 0.182732]
    assert round(z, 6) == 0.976523
    assert round(z * hire_year_share(mu) + (1 - z) * 0.25, 6) == 0.175047
    assert round(hire_year_share(0.40), 6) == 0.175800


def test_intervals_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for events in (0, 1, 7, 30, 450, 31_000):
        for level in (0.9, 0.95, 0.99):
            a = (1 - level) / 2
            if events:
                assert gamma_quantile(a, events) == pytest.approx(stats.gamma.ppf(a, events), rel=1e-9, abs=1e-12)
            assert gamma_quantile(1 - a, events + 1) == pytest.approx(stats.gamma.ppf(1 - a, events + 1), rel=1e-9)
    assert garwood(0, 10.0, 0.95)[0] == 0.0
    low, high = wilson(450, 4000, 0.95)
    z = stats.norm.ppf(0.975)
    p, n = 450 / 4000, 4000
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (low, high) == pytest.approx(((centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)),
                                        rel=1e-12)
