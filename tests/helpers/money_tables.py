"""Hand-built tables of the layers other branches add (the plan's money layer, retirements, IRS limits),
written into a copy of a real result database so the report, diff and export can be checked on them.

The columns are exactly the documented ones (docs/plan_rules.md section 2.5 for ``fct_dc_plan_summary``); the
values are made here from simple rules, so a test can work out every number it expects.
"""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

# docs/plan_rules.md section 2.5, fct_dc_plan_summary, in the order written there.
PLAN_SUMMARY_COLUMNS = (
    "simulation_year", "headcount", "eligible_eoy", "participants_eoy", "participation_rate", "contributors",
    "avg_deferral_rate", "effective_deferral_rate", "total_employee_deferrals", "total_pre_tax", "total_roth",
    "total_catch_up", "total_refunded", "total_match", "total_core", "total_employer_gross",
    "forfeitures_generated", "forfeitures_applied", "forfeiture_pool_eoy", "net_employer_cost", "payroll",
    "employer_cost_pct_payroll", "net_employer_cost_pct_payroll", "at_402g_limit_count", "at_402g_limit_share",
    "reduced_415_count")
MONEY = {"total_employee_deferrals", "total_pre_tax", "total_roth", "total_catch_up", "total_refunded",
         "total_match", "total_core", "total_employer_gross", "forfeitures_generated", "forfeitures_applied",
         "forfeiture_pool_eoy", "net_employer_cost", "payroll"}
# The plan's figures fct_year_summary copies under the same names (docs/outputs.md): the stand-ins replace them there.
IN_YEAR_SUMMARY = ("total_employee_deferrals", "total_match", "total_core", "total_employer_gross",
                   "forfeitures_applied", "net_employer_cost", "employer_cost_pct_payroll", "participation_rate",
                   "at_402g_limit_share")
RATIOS = {"participation_rate", "effective_deferral_rate", "employer_cost_pct_payroll",
          "net_employer_cost_pct_payroll", "at_402g_limit_share"}


def q6(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.000001"), ROUND_HALF_UP)


def plan_row(year: int, payroll: Decimal, first_year: int, scale: int = 1) -> dict:
    """One year of fct_dc_plan_summary: match 1,000.25 + 100.10 per year after the first (x scale), core
    half the match rounded half up, forfeitures applied 40.00 a year after the first (NULL in the first)."""
    k = year - first_year
    match = (Decimal("1000.25") + Decimal("100.10") * k) * scale
    core = (match / 2).quantize(Decimal("0.01"), ROUND_HALF_UP)
    gross = match + core
    applied = None if k == 0 else Decimal("40.00")
    net = gross - (applied or 0)
    deferrals = Decimal("2500.50") * scale + k
    return {
        "simulation_year": year, "headcount": 100 + k, "eligible_eoy": 80 + k, "participants_eoy": 60 + k,
        "participation_rate": q6(Decimal(60 + k) / (80 + k)), "contributors": 62 + k,
        "avg_deferral_rate": Decimal("0.0650"), "effective_deferral_rate": Decimal("0.061234"),
        "total_employee_deferrals": deferrals, "total_pre_tax": deferrals - 100, "total_roth": Decimal("100.00"),
        "total_catch_up": Decimal("50.00"), "total_refunded": Decimal("0.00"), "total_match": match,
        "total_core": core, "total_employer_gross": gross, "forfeitures_generated": Decimal("40.00"),
        "forfeitures_applied": applied, "forfeiture_pool_eoy": Decimal("40.00"), "net_employer_cost": net,
        "payroll": payroll, "employer_cost_pct_payroll": q6(gross / payroll),
        "net_employer_cost_pct_payroll": q6(net / payroll), "at_402g_limit_count": 3 + k,
        "at_402g_limit_share": q6(Decimal(3 + k) / (62 + k)), "reduced_415_count": k,
    }


def _type(column: str) -> str:
    if column in MONEY:
        return "decimal(18, 2)"
    if column in RATIOS:
        return "decimal(9, 6)"
    if column == "avg_deferral_rate":
        return "decimal(9, 4)"
    return "integer" if column == "simulation_year" else "bigint"


def with_money_layer(source: Path, target: Path, scale: int = 1, retirements: bool = True) -> tuple[Path, dict]:
    """Copy ``source`` to ``target`` and add fct_dc_plan_summary (one plan_row per year, its figures copied into
    fct_year_summary as the mart copies them), a ``retirements`` column
    in fct_year_summary (year - 2020), the IRS limits by year with their status and a retirement-rate seed.
    Returns (target, {year: plan row})."""
    shutil.copyfile(source, target)
    con = duckdb.connect(str(target))
    try:
        payroll = dict(con.execute("select simulation_year, payroll from fct_year_summary order by 1").fetchall())
        first = min(payroll)
        rows = {y: plan_row(y, p, first, scale) for y, p in payroll.items()}
        # A run with the plan layer on already holds the real tables: these stand-ins replace them.
        for table in ("fct_dc_plan_summary", "fct_dc_contributions", "int_irs_limits_by_year"):
            con.execute(f"drop table if exists {table}")
        con.execute(f"create table fct_dc_plan_summary ({', '.join(f'{c} {_type(c)}' for c in PLAN_SUMMARY_COLUMNS)})")
        con.executemany(f"insert into fct_dc_plan_summary values ({', '.join('?' * len(PLAN_SUMMARY_COLUMNS))})",
                        [[r[c] for c in PLAN_SUMMARY_COLUMNS] for r in rows.values()])
        con.execute(f"update fct_year_summary y set {', '.join(f'{c} = p.{c}' for c in IN_YEAR_SUMMARY)} "
                    "from fct_dc_plan_summary p where p.simulation_year = y.simulation_year")
        if retirements:
            con.execute("alter table fct_year_summary add column if not exists retirements bigint")
            con.execute("update fct_year_summary set retirements = simulation_year - 2020")
        con.execute("""create table int_irs_limits_by_year as select * from (values
            (2024, 23000, 7500, 345000, 'published', 'Notice 2023-75'),
            (2025, 23500, 7500, 350000, 'published', 'Notice 2024-80'),
            (2026, 24500, 8000, 360000, 'published', 'Notice 2025-67'),
            (2027, 25000, 8000, 365000, 'projected', 'projected from 2026')) t(
            limit_year, elective_deferral_402g, catch_up_50, compensation_401a17, status, source)""")
        con.execute("""create or replace table assumptions.retirement_rates as select * from (values
            (55, 59, 0.02), (60, 61, 0.05), (62, 62, 0.15)) t(min_age, max_age, retirement_rate)""")
    finally:
        con.close()
    return target, rows
