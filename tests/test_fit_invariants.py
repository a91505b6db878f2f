"""Invariants of `planwise fit` on synthetic histories with known rates (docs/fit.md): determinism, attribution,
maximum likelihood against a Poisson GLM, credibility limits, scale, tables vs report, truth recovery, planted
defects, missing leaver rows."""

from __future__ import annotations

import csv
import math
import random
import shutil

import pytest

from helpers.fit_truth import recovery_misses
from helpers.histories import cells, manifest, read_csv
from planwise_core.fit import FitOptions, fit_history, generate_history

EMPLOYEES = 3000


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return generate_history(EMPLOYEES, tmp_path_factory.mktemp("history") / "h", seed=5)


@pytest.fixture(scope="module")
def fitted(history, tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "fit"
    fit_history(history, out)
    return out


def test_determinism_shuffled_renamed_and_extra_columns(history, fitted, tmp_path):
    fit_history(history, tmp_path / "again")
    for path in sorted(p for p in fitted.rglob("*") if p.is_file()):
        assert (tmp_path / "again" / path.relative_to(fitted)).read_bytes() == path.read_bytes(), path.name
    moved = tmp_path / "moved"
    moved.mkdir()
    lines = ["as_of_date,file"]
    for i, row in enumerate(read_csv(history / "snapshots.csv")):
        rows = read_csv(history / row["file"])
        random.Random(i).shuffle(rows)
        with open(moved / f"extract_{i}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) + ["department"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(dict(r, department="x") for r in rows)
        lines.append(f"{row['as_of_date']},extract_{i}.csv")
    (moved / "snapshots.csv").write_text("\n".join(lines) + "\n")
    fit_history(moved, tmp_path / "moved_fit")
    for name in ("config.yaml", "cells/fit_cells.csv", *(p.name for p in fitted.glob("*.csv"))):
        assert (tmp_path / "moved_fit" / name).read_bytes() == (fitted / name).read_bytes(), name


def test_attribution(fitted):
    rows = [r for r in read_csv(fitted / "cells" / "fit_exposure.csv") if r["study"] == "termination"]
    observed = math.fsum(float(r["events"]) for r in rows)
    attributed = math.fsum(float(r["attributed_events"]) for r in rows)
    assert all(float(r["attributed_events"]) <= float(r["events"]) + 1e-9 for r in rows)
    assert all(r["attributed_events"] == r["events"] for r in rows if float(r["expected_retirements"]) == 0)
    assert 0 < observed - attributed < observed  # some leavers 55+ went to retirement


def test_retirement_disabled_attributes_everything(history, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("simulation: {start_year: 2025, end_year: 2026}\nworkforce: {total_termination_rate: 0.12, "
                      "retirement: {enabled: false}}\nrandom_seed: 1\n")
    fit_history(history, tmp_path / "fit", config=config)
    rows = [r for r in read_csv(tmp_path / "fit" / "cells" / "fit_exposure.csv") if r["study"] == "termination"]
    assert all(r["attributed_events"] == r["events"] for r in rows)


def test_maximum_likelihood_equals_a_poisson_glm(history, tmp_path):
    sm = pytest.importorskip("statsmodels.api")
    config = tmp_path / "c.yaml"
    config.write_text("simulation: {start_year: 2025, end_year: 2026}\nworkforce: {total_termination_rate: 0.12, "
                      "retirement: {enabled: false}}\nrandom_seed: 1\n")
    fit_history(history, tmp_path / "fit", config=config, options=FitOptions(full_credibility=0))
    report = [r for r in read_csv(tmp_path / "fit" / "cells" / "fit_cells.csv") if r["parameter"] == "termination"]
    for r in report:  # every Z = 1: the fitted rate is the experience rate
        assert float(r["fitted_rate"]) == pytest.approx(float(r["crude_rate"]), rel=1e-6, abs=1e-8), r["cell"]
    rows = [r for r in read_csv(tmp_path / "fit" / "cells" / "fit_exposure.csv") if r["study"] == "termination"]
    bands = {d: sorted({r[d] for r in rows}) for d in ("age_band", "tenure_band", "level_id")}
    design = [[1.0] + [float(r[d] == b) for d in bands for b in bands[d][1:]] for r in rows]
    model = sm.GLM([float(r["events"]) for r in rows], design, family=sm.families.Poisson(),
                   offset=[math.log(float(r["exposure"])) for r in rows]).fit(tol=1e-13)
    tables = {name: {r[key]: float(r["termination_multiplier"]) for r in read_csv(tmp_path / "fit" / f)}
              for name, key, f in (("age_band", "age_band", "age_bands.csv"),
                                   ("tenure_band", "tenure_band", "tenure_bands.csv"),
                                   ("level_id", "level_id", "job_levels.csv"))}
    ours = [tables["age_band"][r["age_band"]] * tables["tenure_band"][r["tenure_band"]]
            * tables["level_id"][r["level_id"]] for r in rows]
    glm = model.predict(design, offset=[0.0] * len(rows))
    ratio = [o / g for o, g in zip(ours, glm)]  # same shape up to one constant (lambda)
    assert max(ratio) / min(ratio) == pytest.approx(1.0, abs=1e-5)  # published to 6 decimals


def test_credibility_limits(history, tmp_path):
    fit_history(history, tmp_path / "fit", options=FitOptions(full_credibility=math.inf))
    for name in ("age_bands.csv", "tenure_bands.csv"):
        base = read_csv(shutil.os.path.join(__import__("planwise_core").__path__[0], "assumptions", "defaults", name))
        got = read_csv(tmp_path / "fit" / name)
        for b, g in zip(base, got):
            for column in ("termination_multiplier", "promotion_multiplier"):
                assert float(g[column]) == float(b[column]), (name, column)
    published = manifest(tmp_path / "fit")["published"]
    assert published["workforce.total_termination_rate"]["value"] == 0.12
    assert published["promotion_hazard.base_rate"]["value"] == 0.1
    zs = [float(r["credibility"]) for r in read_csv(tmp_path / "fit" / "cells" / "fit_cells.csv") if r["credibility"]]
    assert all(0 <= z <= 1 for z in zs)


def test_fully_credible_bands_reproduce_experience_and_scale(history, tmp_path):
    fit_history(history, tmp_path / "fit", options=FitOptions(full_credibility=150))
    report = [r for r in read_csv(tmp_path / "fit" / "cells" / "fit_cells.csv") if r["parameter"] == "termination"]
    credible = [r for r in report if float(r["credibility"]) == 1.0]
    partial = [r for r in report if 0 < float(r["credibility"]) < 1]
    assert credible and partial
    for r in credible:
        assert float(r["fitted_rate"]) == pytest.approx(float(r["crude_rate"]), rel=1e-7), r["cell"]
    exposure = {(r["dimension"], r["cell"]): float(r["exposure"]) for r in report}
    defaults = {}
    for name, dim, key in (("age_bands.csv", "age_band", "age_band"), ("tenure_bands.csv", "tenure_band",
                                                                       "tenure_band")):
        base = {r[key]: float(r["termination_multiplier"]) for r in read_csv(
            shutil.os.path.join(__import__("planwise_core").__path__[0], "assumptions", "defaults", name))}
        got = {r[key]: float(r["termination_multiplier"]) for r in read_csv(tmp_path / "fit" / name)}
        e = {b: exposure.get((dim, b), 0.0) for b in base}
        mean = lambda m, e=e, base=base: sum(e[b] * m[b] for b in base) / sum(e.values())  # noqa: E731
        assert mean(got) == pytest.approx(mean(base), rel=1e-6), name
        defaults[name] = base


def test_tables_and_report_agree(fitted):
    levels = read_csv(fitted / "job_levels.csv")
    assert sum(round(float(r["new_hire_share"]) * 1_000_000) for r in levels) == 1_000_000
    ages = read_csv(fitted / "new_hire_age_distribution.csv")
    assert sum(round(float(r["share"]) * 1_000_000) for r in ages) == 1_000_000
    config = (fitted / "config.yaml").read_text()
    published = manifest(fitted)["published"]
    assert f"total_termination_rate: {published['workforce.total_termination_rate']['value']}" in config
    report = cells(fitted, "total_termination_rate")["all"]
    assert float(report["published_value"]) == published["workforce.total_termination_rate"]["value"]



def test_fit_years_columns(history, fitted):
    years = read_csv(fitted / "cells" / "fit_years.csv")
    t = manifest(fitted)["published"]["workforce.total_termination_rate"]["value"]
    for y in years:  # A/E of each year against the published t
        assert float(y["ae_t"]) == pytest.approx(int(y["leavers"]) / (int(y["start_actives"]) * t), abs=5e-7)
    snaps = read_csv(history / "snapshots.csv")
    for y in years:  # promotions: stayers (active at both ends) whose level rose, counted from the two snapshots
        k = int(y["k"])
        start = {r["employee_id"]: r for r in read_csv(history / snaps[k - 1]["file"])
                 if not r["employee_termination_date"]}
        end = {r["employee_id"]: r for r in read_csv(history / snaps[k]["file"]) if not r["employee_termination_date"]}
        rose = sum(int(end[i]["level_id"]) > int(r["level_id"]) for i, r in start.items() if i in end)
        assert int(y["promotions"]) == rose, k
        assert {f"merit_{level}" for level in range(1, 6)} <= set(y)


@pytest.fixture(scope="module")
def history_10000(tmp_path_factory):
    return generate_history(10_000, tmp_path_factory.mktemp("h10000") / "h", seed=1)


def test_truth_recovery_10000(history_10000, tmp_path):
    history = history_10000
    fit_history(history, tmp_path / "fit", options=FitOptions(ci_level=0.99))
    misses, checked = recovery_misses(tmp_path / "fit", history)
    assert checked >= 20 and len(misses) <= max(0, int(0.02 * checked)) + 0, misses


@pytest.mark.slow
def test_truth_recovery_30000_other_seed(tmp_path):
    history = generate_history(30_000, tmp_path / "h", seed=2)
    fit_history(history, tmp_path / "fit", options=FitOptions(ci_level=0.99))
    misses, checked = recovery_misses(tmp_path / "fit", history)
    assert len(misses) <= int(0.02 * checked) + 1, misses


@pytest.mark.parametrize("defect", ["full_year", "merit_promoted"])
def test_planted_defects_fail_truth_recovery(defect, history_10000, tmp_path):
    history = history_10000
    fit_history(history, tmp_path / "fit", options=FitOptions(ci_level=0.99, defect=defect))
    misses, checked = recovery_misses(tmp_path / "fit", history)
    assert len(misses) > int(0.02 * checked) + 1, (defect, misses)


@pytest.mark.parametrize("kind", ["vanish", "no_rows"])
def test_missing_leaver_rows_keep_h(kind, tmp_path):
    history = generate_history(2000, tmp_path / "h", seed=3, vanish_share=0.3 if kind == "vanish" else 0.0,
                               terminated_rows=kind != "no_rows")
    result = fit_history(history, tmp_path / "fit")
    assert "workforce.new_hire_termination_rate" in result.not_fitted
    codes = {w["code"] for w in result.warnings}
    assert ("W-VANISH" if kind == "vanish" else "W-NOTERMROWS") in codes

