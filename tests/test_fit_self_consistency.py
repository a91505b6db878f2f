"""Self-consistency (docs/fit.md): a history PlanWise itself produced (the shared 3-year run of test_report, each
year's snapshot rows written as census files with levels and termination dates), fitted with the run's own
configuration, gives back its quota t, its merit + COLA per level and its promotion probabilities."""

from __future__ import annotations

import csv

import duckdb
import pytest
import yaml

from helpers.histories import cells, read_csv
from planwise_core.fit import FitOptions, fit_history
from test_report import SPEC

pytestmark = pytest.mark.slow
COLUMNS = ("employee_id", "employee_birth_date", "employee_hire_date", "employee_termination_date",
           "employee_gross_compensation", "employee_deferral_rate", "level_id")


def write_history(database, folder):
    folder.mkdir()
    with duckdb.connect(str(database), read_only=True) as con:
        snapshots = {SPEC.years[0] - 1: con.execute(
            "SELECT employee_id, employee_birth_date, employee_hire_date, employee_termination_date, "
            "employee_gross_compensation, employee_deferral_rate, level_id FROM raw.census ORDER BY 1").fetchall()}
        for year in SPEC.years:
            snapshots[year] = con.execute(
                "SELECT employee_id, employee_birth_date, employee_hire_date, termination_date, current_compensation, "
                "deferral_rate, level_id FROM fct_workforce_snapshot WHERE simulation_year = ? ORDER BY 1",
                [year]).fetchall()
    for year, rows in snapshots.items():
        with open(folder / f"census_{year}-12-31.csv", "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(["" if v is None else v for v in row] for row in rows)


def test_fit_recovers_the_simulators_own_rates(sims, tmp_path):
    database = sims.get(SPEC).database
    write_history(database, tmp_path / "h")
    config = SPEC.config()
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config.to_dict()))
    fit_history(tmp_path / "h", tmp_path / "fit", config=tmp_path / "config.yaml",
                options=FitOptions(ci_level=0.99))
    quota = cells(tmp_path / "fit", "total_termination_rate")["all"]
    assert float(quota["ci_low"]) <= config.workforce.total_termination_rate <= float(quota["ci_high"])
    levels = {r["level_id"]: float(r["merit_rate"]) for r in read_csv(
        __import__("pathlib").Path(__import__("planwise_core").__path__[0]) / "assumptions" / "defaults" /
        "job_levels.csv")}
    for level, row in cells(tmp_path / "fit", "merit_total", "level").items():
        if float(row["exposure"]) >= 2:
            assert float(row["crude_rate"]) == pytest.approx(levels[level] + config.compensation.cola_rate,
                                                             abs=1e-4), level
    promo = cells(tmp_path / "fit", "promotion", "level")
    for level, row in promo.items():
        # the simulator's probability for these people under the built-in tables: the default rate
        assert float(row["ci_low"]) <= float(row["default_rate"]) <= float(row["ci_high"]), level
