"""``planwise census template``: a census file to fill in, every column explained on a leading ``#`` line.

The loader skips leading ``#`` lines (docs/census.md, Input format), so the template loads as written; its
sample rows are there to be replaced. The rules are those of docs/census.md.
"""

from __future__ import annotations

from pathlib import Path

from planwise_core.census.columns import KNOWN, REQUIRED
from planwise_core.errors import CensusError
from planwise_core.fileio import atomic_write_text

RULES = {
    "employee_id": "text, unique, not empty (e.g. E001)",
    "employee_birth_date": "date YYYY-MM-DD (census.date_format reads other forms, e.g. %m/%d/%Y)",
    "employee_hire_date": "date YYYY-MM-DD, not after the census date",
    "employee_termination_date": "empty for actives, else a date not before the hire date",
    "employee_gross_compensation": "the ANNUAL salary rate in dollars, e.g. 65000.00 (never annualised again)",
    "employee_deferral_rate": "a fraction from 0 to 1: 0.06 for 6 % (empty = 0 = not enrolled)",
    "level_id": "job level 1-5 of the job_levels table, or empty to derive it from the salary",
    "employer_match_balance": "employer match account at the census date, dollars (empty = 0)",
    "employer_core_balance": "employer core account at the census date, dollars (empty = 0)",
    "auto_escalation_opt_out": "true if the person opted out of auto-escalation (empty = false)",
    "ownership_pct": "share of the employer owned, attribution included: a fraction from 0 to 1 (empty = 0; docs/ndt.md)",
    "is_officer": "true for an officer of the employer (empty = false; docs/ndt.md)",
    "employee_deferral_balance": "elective-deferral account at the census date, dollars (empty = 0; docs/ndt.md)",
}
SAMPLE = (
    # In the order of KNOWN: id, birth, hire, salary, termination, deferral, level, balances, opt-out, then the
    # NDT columns: ownership, officer, deferral balance.
    ("E001", "1985-04-12", "2015-06-01", "72000.00", "", "0.06", "1", "5400.00", "0.00", "false", "0", "false",
     "31000.00"),
    ("E002", "1978-11-30", "2009-01-15", "135000.00", "", "0.10", "3", "21000.00", "3500.00", "true", "0.06", "true",
     "148000.00"),
    ("E003", "1996-02-29", "2023-09-05", "58000.00", "2024-08-31", "", "", "", "", "", "", "", ""),
)


def template_text() -> str:
    """Comment lines (one per column: required or optional, its rule), the header, three sample rows."""
    lines = ["# PlanWise census template: one row per employee at the census date (docs/census.md).",
             "# Lines starting with # before the header are skipped; keep or delete them. Replace the sample rows.",
             "# Another header for a column? Map it instead of renaming: census.columns or --column NAME=HEADER."]
    lines += [f"# {name} ({'required' if name in REQUIRED else 'optional'}): {RULES[name]}" for name in KNOWN]
    lines += [",".join(KNOWN), *(",".join(row) for row in SAMPLE)]
    return "\n".join(lines) + "\n"


def write_template(out: Path) -> Path:
    """Write the template to ``out`` (a .csv file, replaced whole)."""
    if out.suffix.lower() != ".csv":
        raise CensusError(f"{out}: the census template is a CSV file; give a name ending in .csv")
    return atomic_write_text(out, template_text())
