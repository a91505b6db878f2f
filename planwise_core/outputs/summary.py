"""The per-year summary that `planwise run` prints: read from the fct_year_summary mart."""

from __future__ import annotations

import json
from decimal import Decimal

from planwise_core.database import table_exists

COLUMNS = (
    ("simulation_year", "year"), ("start_headcount", "start"), ("experienced_terminations", "exp_term"),
    ("retirements", "retired"), ("hires", "hires"), ("new_hire_terminations", "nh_term"), ("end_headcount", "end"),
    ("growth_pct", "growth%"), ("target_growth_pct", "target%"), ("promotions", "promos"),
    ("raises", "raises"), ("enrollments", "enrolls"), ("opt_outs", "opt_outs"),
    ("participation_pct", "particip%"),
    # The plan's money (docs/plan_money.md): dollars of the year, cost as % of payroll, participation of the eligible.
    ("employee_deferrals", "deferrals"), ("employer_match", "match"), ("employer_core", "core"),
    ("employer_cost", "er_cost"), ("employer_cost_pct", "cost%"), ("plan_participation_pct", "plan_part%"),
)
MONEY = {"employee_deferrals", "employer_match", "employer_core", "employer_cost"}


def year_summary(con, first_year: int, last_year: int) -> list[dict]:
    """One dict per simulated year from the fct_year_summary mart; empty when no year has been simulated."""
    if not table_exists(con, "fct_year_summary"):
        return []
    cur = con.execute("select * from fct_year_summary where simulation_year between ? and ? order by simulation_year",
                      [first_year, last_year])
    names = [d[0] for d in cur.description]
    # Plain JSON-able numbers: money stays exact in the database, readers get floats.
    return [{k: float(v) if isinstance(v, Decimal) else v for k, v in zip(names, row)} for row in cur.fetchall()]


def format_summary(rows: list[dict]) -> str:
    """A fixed-width text table, one line per year."""
    headers = [label for _, label in COLUMNS]
    table = [[_fmt(row.get(key), key in MONEY) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in table]
    return "\n".join(lines)


def _fmt(value, money: bool = False) -> str:
    if value is None:
        return "-"
    if money:
        return f"{value:,.0f}"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def census_load(con) -> dict | None:
    """What the census in this database kept, left out and warned about (raw.census_load), or None."""
    if not table_exists(con, "census_load", schema="raw"):
        return None
    row = con.execute("select summary_json, loaded_at, run_id from raw.census_load").fetchone()
    if row is None:
        return None
    return {**json.loads(row[0]), "loaded_at": str(row[1]), "run_id": row[2]}


def format_census(info: dict | None) -> str:
    """One line: rows read, loaded, dropped (and where they are listed), rows with warnings, ignored columns."""
    if not info:
        return "census: no load record (loaded before PlanWise recorded census loads)"
    text = f"census: {info['rows']:,} rows, {info['loaded']:,} loaded"
    if info["dropped"]:
        where = f"listed in {info['rejects_file']}" if info.get("rejects_file") else "see raw.census_rejects"
        text += f", {info['dropped']:,} dropped as invalid ({where})"
    text += f", {info['warning_rows']:,} with warnings" if info["warning_rows"] else ", no warnings"
    if info["extra_columns"]:
        text += f"; columns ignored: {', '.join(info['extra_columns'])}"
    return text
