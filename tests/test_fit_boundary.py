"""The maximum-likelihood fit with retirement attribution when a band shows fewer leavers than the retirement
table alone expects (docs/fit.md, "Choices and known limits"): its multiplier's maximum is 0, reached directly
(the derivative of the band's likelihood at 0 is not positive), not by thousands of ever smaller EM steps."""

from __future__ import annotations

import math

from planwise_core.fit.multiplicative import Cell, sweep_fit


def cells(old_ratio: float) -> list[Cell]:
    """Two young bands with plain experience; the 55-64 band's leavers are old_ratio x its expected retirements."""
    out = [Cell(("25-34", "<2", "1"), 1000.0, 120.0), Cell(("35-44", "<2", "1"), 800.0, 60.0),
           Cell(("25-34", "2-4", "1"), 500.0, 40.0), Cell(("35-44", "2-4", "1"), 700.0, 35.0)]
    for tenure, exposure, retirements in (("<2", 100.0, 20.0), ("2-4", 300.0, 30.0)):
        out.append(Cell(("55-64", tenure, "1"), exposure, retirements * old_ratio, retirements=retirements))
    return out


def test_a_band_below_its_retirements_goes_to_zero_quickly():
    data = cells(0.999)
    free = [{"25-34", "35-44", "55-64"}, {"<2", "2-4"}, {"1"}]
    fit = sweep_fit(data, [{b: 1.0 for b in d} for d in free], 0.1, free, True, "test")
    assert fit.multipliers[0]["55-64"] == 0.0 and fit.sweeps < 1000
    old = [c for c in data if c.key[0] == "55-64"]
    assert all(c.attributed == 0.0 for c in old)  # every old leaver is a retirement
    young = [c for c in data if c.key[0] != "55-64"]
    assert math.isclose(math.fsum(c.attributed for c in young), 255.0, rel_tol=1e-9)
    # the likelihood's derivative in the band's multiplier at 0 is not positive (independently, from the fit)
    lam, m = fit.lam, fit.multipliers
    w = [lam * c.exposure * m[1][c.key[1]] * m[2][c.key[2]] for c in old]
    assert math.fsum(c.observed * wc / c.retirements for c, wc in zip(old, w)) - math.fsum(w) <= 0


def test_a_band_above_its_retirements_keeps_a_positive_multiplier():
    data = cells(1.5)
    free = [{"25-34", "35-44", "55-64"}, {"<2", "2-4"}, {"1"}]
    fit = sweep_fit(data, [{b: 1.0 for b in d} for d in free], 0.1, free, True, "test")
    assert fit.multipliers[0]["55-64"] > 0
    old = [c for c in data if c.key[0] == "55-64"]
    assert 0 < math.fsum(c.attributed for c in old) < math.fsum(c.observed for c in old)


def test_w_ret_when_the_table_expects_far_more_retirements(tmp_path):
    """A history fitted with a base configuration whose retirement table is scaled 10 times: the fit finishes, warns
    W-RET and suggests the base multiplier scaled by the observed A/E (not the A/E alone)."""
    import re

    import yaml

    from planwise_core.config import load_config
    from planwise_core.config.schema import DEFAULT_CONFIG_PATH
    from planwise_core.fit import fit_history, generate_history

    history = generate_history(1500, tmp_path / "h", snapshots=3, seed=8)
    data = load_config(DEFAULT_CONFIG_PATH).to_dict()
    data["workforce"]["retirement"]["rate_multiplier"] = 10.0
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    result = fit_history(history, tmp_path / "fit", config=tmp_path / "config.yaml")
    [warning] = [w for w in result.warnings if w["code"] == "W-RET"]
    observed, expected, ratio, suggested = map(float, re.search(
        r"(\d+) observed against ([\d.]+) expected \(A/E ([\d.]+)\).*rate_multiplier ([\d.]+)",
        warning["message"]).groups())
    assert ratio < 0.5 and abs(ratio - observed / expected) < 0.006
    assert abs(suggested - 10.0 * observed / expected) < 0.006
