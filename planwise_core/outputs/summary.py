"""The per-year summary that `planwise run` prints: read from the fct_year_summary mart."""

from __future__ import annotations

from decimal import Decimal

from planwise_core.database import table_exists
from planwise_core.database.runlog import recorded_json
from planwise_core.outputs.ndt import format_year_lines, year_lines as ndt_year_lines  # noqa: F401 - re-exported

# One line per metric (words, not abbreviations), one column per year. Participation is enrolled / eligible as
# docs/plan_rules.md defines it (fct_year_summary.plan_participation_pct, null with the plan off); the older figure,
# enrolled / every active (participation_pct), is the line after it.
ROWS = (
    ("start_headcount", "start headcount"), ("experienced_terminations", "experienced terminations"),
    ("retirements", "retirements"), ("hires", "hires"), ("new_hire_terminations", "new-hire terminations"),
    ("end_headcount", "end headcount"), ("growth_pct", "growth %"), ("target_growth_pct", "target growth %"),
    ("promotions", "promotions"), ("raises", "raises"), ("enrollments", "enrollments"), ("opt_outs", "opt-outs"),
    ("match_responses", "match responses (deferral changes)"), ("escalations", "auto-escalations"),
    ("plan_participation_pct", "participation % (enrolled / eligible)"),
    ("participation_pct", "enrolled % of all actives"),
    # The plan's money (docs/plan_money.md): dollars of the year, cost as % of payroll.
    ("employee_deferrals", "employee deferrals $"), ("employer_match", "employer match $"),
    ("employer_core", "employer core $"), ("employer_cost", "employer cost $"),
    ("employer_cost_pct", "employer cost % of payroll"),
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
    """A fixed-width text table: a header of years, then one line per metric."""
    labels = ["year"] + [label for _, label in ROWS]
    columns = [[str(row.get("simulation_year"))] + [_fmt(row.get(key), key in MONEY) for key, _ in ROWS]
               for row in rows]
    label_width = max(len(label) for label in labels)
    widths = [max(len(cell) for cell in column) for column in columns]
    return "\n".join(label.ljust(label_width) + "".join("  " + column[i].rjust(w) for column, w in zip(columns, widths))
                     for i, label in enumerate(labels))


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
    return {**(recorded_json(row[0], "raw.census_load", "summary_json", row[2]) or {}), "loaded_at": str(row[1]),
            "run_id": row[2]}


def format_census(info: dict | None) -> str:
    """One line: rows read, loaded, dropped (and where they are listed), rows with warnings, ignored columns."""
    if not info:
        return "census: no load record (loaded before PlanWise recorded census loads)"
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
