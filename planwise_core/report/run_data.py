"""What the run report shows, read from a result database as plain Python values (``collect``).

Per-year numbers come from the marts (``fct_year_summary``; ``fct_dc_plan_summary`` when the plan's money
layer ran); distributions and demographics from ``fct_workforce_snapshot``. Age and tenure bands are put
in band order, by their lower bound in the seeds (``stg_age_bands.min_age``, ``stg_tenure_bands.min_tenure``),
never alphabetically ("5-9" before "10-19"). Nothing here writes.
"""

from __future__ import annotations

from planwise_core.database import runlog, table_exists
from planwise_core.database.sql import dicts
from planwise_core.outputs.ndt import ndt_rows
from planwise_core.outputs import headline as hl
from planwise_core.outputs.provenance import results_run
from planwise_core.outputs.summary import year_summary

ACTIVES = "from fct_workforce_snapshot where employment_status = 'active'"
# dimension -> (snapshot column, band tables to look in, the table's name and lower-bound columns)
BANDS = {"age": ("age_band", ("stg_age_bands", "assumptions.age_bands"), "age_band", "min_age"),
         "tenure": ("tenure_band", ("stg_tenure_bands", "assumptions.tenure_bands"), "tenure_band", "min_tenure")}
IRS_LIMITS = "int_irs_limits_by_year"


def band_order(con, dimension: str, present: list[str]) -> list[str]:
    """The bands of ``present`` sorted by their lower bound in the seed; bands the seed lacks go last, by name."""
    _, tables, name, low = BANDS[dimension]
    bounds: dict[str, float] = {}
    table = next((t for t in tables if table_exists(con, t.split(".")[-1], schema=t.split(".")[0] if "." in t
                                                    else "main")), None)
    if table:
        bounds = {str(b): float(m) for b, m in con.execute(f'select "{name}", "{low}" from {table}').fetchall()}
    return sorted(present, key=lambda b: (b not in bounds, bounds.get(b, 0.0), str(b)))


def by_band(con, dimension: str) -> dict:
    """Actives and enrolled actives per (year, band), and the bands in band order."""
    column = BANDS[dimension][0]
    cells = {(y, str(b)): (n, e) for y, b, n, e in con.execute(
        f"select simulation_year, {column}, count(*), count(*) filter (where is_enrolled) {ACTIVES} "
        "group by all").fetchall()}
    return {"cells": cells, "bands": band_order(con, dimension, sorted({b for _, b in cells}))}


def plan_summary(con) -> dict[int, dict]:
    """``fct_dc_plan_summary`` by year (every column, as stored), or {} when the money layer did not run."""
    if not table_exists(con, hl.PLAN_SUMMARY):
        return {}
    return {r["simulation_year"]: r for r in dicts(con, f"select * from {hl.PLAN_SUMMARY} order by simulation_year")}


def read_parameter_tables(con, years: list[int]) -> list[tuple[str, list[str], list[tuple]]]:
    """(name, columns, rows) of every parameter table in the database (the ``assumptions`` schema), and the IRS
    limits by year with their
    published/projected status when the money layer built them. A table keyed by ``simulation_year`` is cut to
    the simulated years."""
    names = [f"{schema}.{name}" if schema != "main" else name for schema, name in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'assumptions' order by 2").fetchall()]
    if table_exists(con, IRS_LIMITS):
        names = [n for n in names if n != "assumptions.irs_limits"] + [IRS_LIMITS]
    out = []
    for name in names:
        relation = ".".join(f'"{part}"' for part in name.split("."))
        cur = con.execute(f'select * from {relation} limit 0')
        columns = [d[0] for d in cur.description]
        where = ""
        if "simulation_year" in columns and years:
            where = f" where simulation_year between {int(years[0])} and {int(years[-1])}"
        elif name == IRS_LIMITS and years:
            where = f" where limit_year between {int(years[0])} and {int(years[-1])}"
        rows = con.execute(f'select * from {relation}{where} order by all').fetchall()
        out.append((name.removeprefix("assumptions."), columns, rows))
    return out


def collect(con) -> dict:
    """Everything the page shows, as plain Python values."""
    years = [r[0] for r in con.execute("select distinct simulation_year from fct_workforce_snapshot order by 1")
             .fetchall()]
    last = years[-1]
    summary = year_summary(con, years[0], last)
    metrics = hl.available(con)
    data: dict = {"years": years, "last_year": last, "summary": summary,
                  "by_year": {r["simulation_year"]: r for r in summary},
                  "metrics": metrics, "headline": hl.headline(con, metrics)}
    data["pay"] = [float(r[0]) for r in con.execute(
        f"select current_compensation {ACTIVES} and simulation_year = ? and current_compensation is not null",
        [last]).fetchall()]
    levels = con.execute(f"select level_id, simulation_year, avg(current_compensation), count(*) {ACTIVES} "
                         "group by all order by 1, 2").fetchall()
    data["pay_by_level"] = {(lvl, y): (float(avg), n) for lvl, y, avg, n in levels}
    data["levels"] = sorted({lvl for lvl, _, _, _ in levels}, key=lambda v: (v is None, v))
    data["deferrals"] = [float(r[0]) for r in con.execute(
        f"select deferral_rate {ACTIVES} and simulation_year = ? and is_enrolled and deferral_rate is not null",
        [last]).fetchall()]
    data["age"], data["tenure"] = by_band(con, "age"), by_band(con, "tenure")
    data["plan"] = plan_summary(con)
    data["ndt"] = ndt_rows(con)
    data["parameter_tables"] = read_parameter_tables(con, years)
    data["run"] = results_run(con)
    data["year_log"] = runlog.year_rows(con)
    return data
