"""IRS limits (docs/plan_rules.md 1, invariant 9): the built-in table holds the published rows exactly, int_irs_limits_by_year
projects later years by the rule, recomputed here with exact rational arithmetic."""

from __future__ import annotations

import csv
from fractions import Fraction
from math import floor

import duckdb
import pytest

from planwise_core.config import PlanwiseConfig
from planwise_core.engine.invokers import InProcessDbt
from planwise_core.assumptions import load_assumptions, resolve_assumptions
from planwise_core.assumptions.spec import DEFAULTS_DIR
from planwise_core.engine.project import DbtProject

COLUMNS = ("elective_deferral_402g", "catch_up_50", "catch_up_60_63", "compensation_401a17", "annual_additions_415c",
           "hce_414q", "roth_catch_up_wage_threshold", "ss_wage_base")
PUBLISHED = {  # docs/plan_rules.md section 1
    2024: (23000, 7500, 7500, 345000, 69000, 155000, None, 168600),
    2025: (23500, 7500, 11250, 350000, 70000, 160000, 145000, 176100),
    2026: (24500, 8000, 11250, 360000, 72000, 160000, 150000, 184500),
}
NOTICES = {2024: "Notice 2023-75", 2025: "Notice 2024-80", 2026: "Notice 2025-67"}
STEPS = {"elective_deferral_402g": 500, "catch_up_50": 500, "catch_up_60_63": 500, "compensation_401a17": 5000,
         "annual_additions_415c": 1000, "hce_414q": 5000, "roth_catch_up_wage_threshold": 5000, "ss_wage_base": 300}


def projected(cpi: str, wages: str, last_year: int) -> dict[int, tuple]:
    """The projection rule of dc_plan 1, exactly."""
    g, w, p = Fraction(cpi), Fraction(wages), max(PUBLISHED)
    base = dict(zip(COLUMNS, PUBLISHED[p]))
    rows, previous = {}, base
    for year in range(p + 1, last_year + 1):
        row = {}
        for column in COLUMNS:
            step = STEPS[column]
            if column == "catch_up_60_63":
                value = max(11250, step * floor(10000 * (1 + g) ** (year - 2025) / step))
            elif column == "ss_wage_base":
                value = step * floor(base[column] * (1 + w) ** (year - p) / step + Fraction(1, 2))
            else:
                value = step * floor(base[column] * (1 + g) ** (year - p) / step)
            row[column] = max(previous[column], value)
        rows[year] = tuple(row[c] for c in COLUMNS)
        previous = row
    return rows


def test_seed_holds_the_published_rows_exactly():
    with open(DEFAULTS_DIR / "irs_limits.csv", newline="") as handle:
        seed = list(csv.DictReader(handle))
    assert [int(r["limit_year"]) for r in seed] == sorted(PUBLISHED)
    for r in seed:
        year = int(r["limit_year"])
        assert tuple(int(r[c]) if r[c] else None for c in COLUMNS) == PUBLISHED[year]
        assert r["source"] == NOTICES[year]


def test_the_rule_gives_dc_plans_2027_to_2031_table():
    assert projected("0.025", "0.035", 2031) == {
        2027: (25000, 8000, 11250, 365000, 73000, 160000, 150000, 191100),
        2028: (25500, 8000, 11250, 375000, 75000, 165000, 155000, 197700),
        2029: (26000, 8500, 11250, 385000, 77000, 170000, 160000, 204600),
        2030: (27000, 8500, 11250, 395000, 79000, 175000, 165000, 211800),
        2031: (27500, 9000, 11500, 405000, 81000, 180000, 165000, 219000),
    }


@pytest.mark.parametrize("cpi, wages", [("0.025", "0.035"), ("0", "0"), ("0.037", "0.051"), ("0.1", "0.1")])
def test_model_equals_the_exact_rule(tmp_path, cpi, wages):
    last = 2070
    config = PlanwiseConfig().with_overrides(**{"simulation.end_year": last, "plan.irs_limits.cpi_growth": float(cpi),
                                                "plan.irs_limits.wage_growth": float(wages)})
    database = tmp_path / "sim.duckdb"  # the registry's file name: its catalog's parse is reused
    dbt = InProcessDbt(DbtProject(database), config.to_dbt_vars())
    with duckdb.connect(str(database)) as con:  # the host loads the parameter tables (no dbt seed)
        load_assumptions(con, resolve_assumptions(config))
    dbt.invoke("run", "--select", "stg_irs_limits", "int_irs_limits_by_year")
    with duckdb.connect(str(database), read_only=True) as con:
        got = {r[0]: (r[1:-1], r[-1]) for r in con.execute(
            f"select limit_year, {', '.join(COLUMNS)}, status from int_irs_limits_by_year order by 1").fetchall()}
    assert sorted(got) == list(range(2024, last + 1)), "one row per year"
    expected = {**{y: (v, "published") for y, v in PUBLISHED.items()},
                **{y: (v, "projected") for y, v in projected(cpi, wages, last).items()}}
    assert got == expected
    for column_index, column in enumerate(COLUMNS):
        series = [got[y][0][column_index] for y in range(2027, last + 1)]
        assert series == sorted(series), f"{column} decreases"
        # 11,250 is 150 % of the 2024 age-50 amount, a statutory floor off the $500 step.
        assert all(v % STEPS[column] == 0 or (column, v) == ("catch_up_60_63", 11250) for v in series), column
