"""The per-year summary that `planwise run` prints: read from the fct_year_summary mart."""

from __future__ import annotations

from decimal import Decimal

from planwise_core.database import table_exists
from planwise_core.database.sql import inline
from planwise_core.database.runlog import recorded_json
from planwise_core.outputs.metrics import BY_KEY, FRACTION, METRIC_LABELS, MONEY, percent
from planwise_core.outputs.ndt import format_year_lines, year_lines as ndt_year_lines  # noqa: F401 - re-exported

# One line per metric, one column per year; labels and units are outputs/metrics.py's. Participation is enrolled /
# eligible as docs/plan_rules.md defines it (participation_rate, null with the plan off); the enrolled share of every
# active is the line after it.
ROWS = ("start_headcount", "experienced_terminations", "retirements", "hires", "new_hire_terminations",
        "end_headcount", "growth_rate", "target_growth_rate", "promotions", "raises", "enrollments", "opt_outs",
        "match_responses", "escalations", "participation_rate", "enrolled_share_of_actives",
        # The plan's money (docs/plan_money.md): dollars of the year, cost as a share of plan compensation.
        "total_employee_deferrals", "total_match", "total_core", "total_employer_gross", "employer_cost_pct_payroll")


def year_summary(con, first_year: int, last_year: int) -> list[dict]:
    """One dict per simulated year from the fct_year_summary mart; empty when no year has been simulated."""
    if not table_exists(con, "fct_year_summary"):
        return []
    cur = con.execute(inline("select * from fct_year_summary where simulation_year between ? and ? "
                             "order by simulation_year", [first_year, last_year]))
    names = [d[0] for d in cur.description]
    # Plain JSON-able numbers: money stays exact in the database, readers get floats.
    return [{k: float(v) if isinstance(v, Decimal) else v for k, v in zip(names, row)} for row in cur.fetchall()]


def format_summary(rows: list[dict]) -> str:
    """A fixed-width text table: a header of years, then one line per metric."""
    labels = ["year"] + [METRIC_LABELS[key] for key in ROWS]
    columns = [[str(row.get("simulation_year"))] + [_fmt(row.get(key), BY_KEY[key].unit) for key in ROWS]
               for row in rows]
    label_width = max(len(label) for label in labels)
    widths = [max(len(cell) for cell in column) for column in columns]
    return "\n".join(label.ljust(label_width) + "".join("  " + column[i].rjust(w) for column, w in zip(columns, widths))
                     for i, label in enumerate(labels))


def _fmt(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == MONEY:
        return f"${value:,.0f}"
    return f"{percent(value)}%" if unit == FRACTION else str(value)


def census_load(con) -> dict | None:
    """What the census in this database kept, left out and warned about (raw.census_load), or None."""
    if not table_exists(con, "census_load", schema="raw"):
        return None
    row = con.execute("select summary_json, loaded_at, run_id from raw.census_load").fetchone()
    if row is None:
        return None
    return {**(recorded_json(row[0], "raw.census_load", "summary_json", row[2]) or {}), "loaded_at": str(row[1]),
            "run_id": row[2]}


def format_census(info: dict | None) -> str:
    """One line: rows read, loaded, dropped (and where they are listed), rows with warnings, ignored columns."""
    if not info:
        return "census: no load record in this database"
    text = f"census: {info['rows']:,} rows, {info['loaded']:,} loaded"
    if info["dropped"]:
        where = f"listed in {info['rejects_file']}" if info.get("rejects_file") else "see raw.census_rejects"
        text += f", {info['dropped']:,} dropped as invalid ({where})"
    text += f", {info['warning_rows']:,} with warnings" if info["warning_rows"] else ", no warnings"
    if info.get("mapped_columns"):
        text += "; columns read under another name: " + ", ".join(
            f"{column} <- {header!r}" for column, header in info["mapped_columns"].items())
    if info["extra_columns"]:
        text += f"; columns ignored: {', '.join(info['extra_columns'])}"
    return text
